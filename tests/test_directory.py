"""The national directory: reading the ANS extract, loading it all or nothing, reading the current load."""
from __future__ import annotations

import pytest
from sqlalchemy import select, text

from snp_service.cli import snp
from snp_service.core.errors import Invalid
from snp_service.core.extensions import db
from snp_service.directory.loading import MalformedExtract, load_extract
from snp_service.directory.search import entries_of, search_directory
from snp_service.models import AuditEvent, DirectoryEntry, DirectoryLoad, DirectoryNameWord
from tests.directory_files import HEADER, extract_text, line, person, rpps_number


def write(tmp_path, content: str, name: str = "PS_LibreAcces_Personne_activite.txt"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


def names_in_directory() -> list[str]:
    return sorted(e["last_name"] for e in search_directory("fictif", limit=50))


def test_columns_are_found_by_their_header_name_wherever_they_are(ctx, tmp_path):
    # The ANS adds columns at the end; a copy may also carry them in another order.
    header = list(reversed(HEADER)) + ["Colonne ajoutée en 2027"]
    people = [person(1, last_name="FICTIF-LEBRETON", first_name="Yann"),
              person(2, last_name="FICTIF-GUILBAUD", first_name="Anaïs", profession="60")]
    result = load_extract("cli", write(tmp_path, extract_text(people, header)), ["85"])

    assert result.rows_kept == 2
    [nurse] = entries_of(rpps_number(2))
    assert (nurse["last_name"], nurse["first_name"], nurse["profession"]) == ("FICTIF-GUILBAUD", "Anaïs", "nurse")
    assert nurse["commune_insee"] == "85222" and nurse["postal_code"] == "85800"
    assert nurse["address"] == f"{2 % 90 + 1} Rue DES DUNES"
    assert nurse["practice_siret"].startswith("0000000000002")


def test_lines_with_and_without_the_trailing_bar_are_both_read(ctx, tmp_path):
    content = ("|".join(HEADER) + "|\n" + line(person(1, last_name="FICTIF-AVEC")) +
               line(person(2, last_name="FICTIF-SANS"), trailing=False) +
               line(person(3, last_name="FICTIF-DERNIERE"), trailing=False).rstrip("\n"))
    load_extract("cli", write(tmp_path, content.replace("\n", "\r\n", 1)), ["85"])

    assert names_in_directory() == ["FICTIF-AVEC", "FICTIF-DERNIERE", "FICTIF-SANS"]


def test_only_known_professions_rpps_identifiers_and_asked_departements_are_kept(ctx, tmp_path):
    people = [person(1, last_name="FICTIF-MEDECIN"), person(2, last_name="FICTIF-DENTISTE", profession="40"),
              person(3, last_name="FICTIF-ADELI", id_type="0", rpps="851234567"),
              person(4, last_name="FICTIF-NANTES", departement="44", commune="44109", postal_code="44000"),
              person(5, last_name="FICTIF-SAGEFEMME", profession="50"),
              # No département column: the commune's tells it.
              person(6, last_name="FICTIF-SANSDEPT", departement="", commune="85047")]
    load_extract("cli", write(tmp_path, extract_text(people)), ["85"])
    assert names_in_directory() == ["FICTIF-MEDECIN", "FICTIF-SAGEFEMME", "FICTIF-SANSDEPT"]

    load_extract("cli", write(tmp_path, extract_text(people)), ["44", "85"])
    assert "FICTIF-NANTES" in names_in_directory()


def test_the_territories_departements_are_kept_by_default(ctx, world, tmp_path):
    world.cpts(communes=(("44109", "Nantes", 47.2, -1.55),))
    people = [person(1, last_name="FICTIF-VENDEE"),
              person(2, last_name="FICTIF-NANTES", departement="44", commune="44109", postal_code="44000")]
    result = load_extract("cli", write(tmp_path, extract_text(people)))
    assert result.departements == ["44"]
    assert names_in_directory() == ["FICTIF-NANTES"]


def test_a_malformed_file_changes_nothing_and_names_each_wrong_line(ctx, tmp_path):
    load_extract("cli", write(tmp_path, extract_text([person(1, last_name="FICTIF-ANCIEN")])), ["85"])
    good = [person(n, last_name=f"FICTIF-NOUVEAU{n}") for n in range(2, 8)]
    content = extract_text(good).encode()
    lines = content.split(b"\n")
    lines[2] = lines[2].replace(b"|", b"", 3)  # line 3: three fields short
    lines[4] = lines[4].replace(rpps_number(5).encode(), b"12345")  # line 5: not an RPPS
    lines[6] = lines[6].replace(b"FICTIF", b"FICTIF\xff")  # line 7: not UTF-8
    with pytest.raises(MalformedExtract) as refused:
        load_extract("cli", write(tmp_path, b"\n".join(lines), "bad.txt"), ["85"], batch_rows=1)

    assert refused.value.count == 3
    assert [number for number, _ in refused.value.lines] == [3, 5, 7]
    reasons = dict(refused.value.lines)
    assert "champs au lieu de 56" in reasons[3] and "11 chiffres" in reasons[5] and "UTF-8" in reasons[7]
    assert names_in_directory() == ["FICTIF-ANCIEN"]
    # Rows written by the refused load before its wrong lines were found are gone.
    assert db.session.scalar(select(db.func.count()).select_from(DirectoryEntry)) == 1
    assert [load.status for load in db.session.scalars(select(DirectoryLoad).order_by(DirectoryLoad.id))] == [
        "current", "failed"]


def test_a_file_without_a_needed_column_is_refused(ctx, tmp_path):
    header = [name for name in HEADER if name != "Code profession"]
    with pytest.raises(Invalid, match="Code profession"):
        load_extract("cli", write(tmp_path, extract_text([person(1)], header)), ["85"])
    with pytest.raises(Invalid, match="vide"):
        load_extract("cli", write(tmp_path, ""), ["85"])


def test_a_reader_sees_the_previous_load_whole_until_the_new_one_replaces_it(ctx, tmp_path):
    load_extract("cli", write(tmp_path, extract_text([person(n, last_name=f"FICTIF-A{n}") for n in range(1, 4)])),
                 ["85"])
    before = names_in_directory()
    seen_during = []

    def reader_in_another_connection():
        # Another connection, as another request would read while the load commits its batches.
        with db.engine.connect() as other:
            count = other.execute(text(
                "SELECT count(*) FROM directory WHERE generation = "
                "(SELECT id FROM directory_load WHERE status = 'current')")).scalar()
            last_names = other.execute(text(
                "SELECT last_name FROM directory WHERE generation = "
                "(SELECT id FROM directory_load WHERE status = 'current') ORDER BY last_name")).scalars().all()
        seen_during.append((count, last_names))
        seen_during.append(("service", names_in_directory()))

    new = [person(n, last_name=f"FICTIF-B{n}") for n in range(10, 17)]
    load_extract("cli", write(tmp_path, extract_text(new), "new.txt"), ["85"], batch_rows=2,
                 after_batch=reader_in_another_connection)

    assert len(seen_during) == 8  # 4 batches, each seen twice
    assert all(seen == (3, before) or seen == ("service", before) for seen in seen_during)
    assert names_in_directory() == sorted(f"FICTIF-B{n}" for n in range(10, 17))
    assert db.session.scalar(select(db.func.count()).select_from(DirectoryEntry)) == 7  # the old rows are gone
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "directory.load")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.after["rows_kept"] == 7 and event.before["generation"] is not None


def test_search_by_name_rpps_and_commune(ctx, tmp_path):
    people = [person(1, last_name="FICTIF-LE BRETON", first_name="Yann"),
              person(2, last_name="FICTIF-OGER", first_name="Maëlle", commune="85047", postal_code="85300",
                     commune_name="Challans")]
    load_extract("cli", write(tmp_path, extract_text(people)), ["85"])

    assert [e["first_name"] for e in search_directory("maelle fictif")] == ["Maëlle"]
    assert [e["first_name"] for e in search_directory("yann breton")] == ["Yann"]
    assert [e["rpps"] for e in search_directory(rpps_number(2)[:10])] == [rpps_number(2)]
    assert [e["first_name"] for e in search_directory("Challans")] == ["Maëlle"]
    assert [e["first_name"] for e in search_directory("85300")] == ["Maëlle"]
    assert search_directory("yann", departements={"44"}) == []


def test_any_word_of_a_compound_name_finds_it_alone(ctx, tmp_path):
    people = [person(1, last_name="DE LA FONTAINE", first_name="Jean-Pierre"),
              person(2, last_name="LE GALL MARTIN", first_name="Anne"),
              person(3, last_name="MARTINEAU", first_name="Luc")]
    load_extract("cli", write(tmp_path, extract_text(people)), ["85"])

    def found(typed):
        return sorted(e["last_name"] for e in search_directory(typed))

    assert found("FONTAINE") == ["DE LA FONTAINE"]
    assert found("fontaine jean") == ["DE LA FONTAINE"]
    assert found("Pierre") == ["DE LA FONTAINE"]  # a compound first name's second word
    assert found("martin") == ["LE GALL MARTIN", "MARTINEAU"]
    assert found("martin anne") == ["LE GALL MARTIN"]
    assert found("gall") == ["LE GALL MARTIN"]  # the second word, as before
    # A reload replaces the words with the new load's: the previous load's names are no longer found.
    load_extract("cli", write(tmp_path, extract_text([person(4, last_name="DU BOIS JOLY", first_name="Léa")]),
                              "new.txt"), ["85"])
    assert found("fontaine") == [] and found("joly") == ["DU BOIS JOLY"]
    assert db.session.scalar(select(db.func.count()).select_from(DirectoryNameWord)) == 1


def test_the_command_loads_and_lists_wrong_lines(app, tmp_path):
    runner = app.test_cli_runner()
    good = write(tmp_path, extract_text([person(1), person(2)]))
    result = runner.invoke(snp, ["directory", "load", good, "--departments", "85,44"])
    assert result.exit_code == 0, result.output
    assert "2 rows kept of 2 lines" in result.output

    bad = write(tmp_path, extract_text([person(3)]) + "8|trop court|\n", "bad.txt")
    result = runner.invoke(snp, ["directory", "load", bad, "--departments", "85"])
    assert result.exit_code == 1
    assert "ligne 3 : 3 champs au lieu de 56" in result.output
