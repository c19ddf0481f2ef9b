"""The coordinator's members page: list, add from the directory or by hand, edit, remove, create the account."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.cpts.practitioners import set_takes_requests
from snp_service.directory.loading import load_extract
from snp_service.models import AuditEvent, Practitioner, Slot, User
from tests.directory_files import extract_text, person, rpps_number
from tests.factories import page_csrf

CHALLANS = ("85047", "Challans", 46.8357, -1.8399)
SAINT_GILLES = ("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428)


def coordinator_of(world, client, cpts):
    user = world.user("coordinator", cpts)
    world.sign_in_page(client, user)
    return page_csrf(client, "/coordination/membres")


def field_error(page: str, name: str) -> str:
    found = re.search(rf'<p class="field-error" id="{name}-error"[^>]*>([^<]*)</p>', page)
    return found.group(1) if found else ""


def hand_form(csrf, **changes):
    form = {"csrf_token": csrf, "last_name": "Martin", "first_name": "Hugo", "profession": "gp",
            "rpps": rpps_number(40), "phone": "+33251000000", "address": "3 rue du Port", "commune_insee": "85047",
            "postal_code": "", "practice_siret": "", "practice_finess": "", "lat": "", "lon": ""}
    return form | changes


def test_the_list_shows_each_member_with_account_status_and_filters(client, world):
    cpts = world.cpts(communes=(SAINT_GILLES, CHALLANS))
    gp = world.gp(cpts, first_name="Yann", last_name="Lebreton")
    other = world.practitioner(cpts, first_name="Anaïs", last_name="Guilbaud", commune_insee="85047")
    other.profession = "nurse"
    db.session.commit()
    coordinator_of(world, client, cpts)

    page = client.get("/coordination/membres").get_data(as_text=True)
    assert "Lebreton Yann" in page and "Guilbaud Anaïs" in page
    assert re.search(r"Lebreton Yann.*?Médecin généraliste.*?Saint-Gilles-Croix-de-Vie.*?actif", page, re.S)
    assert re.search(r"Guilbaud Anaïs.*?Infirmier\(ère\).*?Challans.*?aucun", page, re.S)
    nurses = client.get("/coordination/membres?profession=nurse").get_data(as_text=True)
    assert "Guilbaud" in nurses and "Lebreton" not in nurses
    in_challans = client.get("/coordination/membres?commune=85047").get_data(as_text=True)
    assert "Guilbaud" in in_challans and "Lebreton" not in in_challans
    assert gp.practitioner_id


def test_the_coordinator_sees_which_members_take_slot_requests(client, world):
    cpts = world.cpts(communes=(SAINT_GILLES, CHALLANS))
    willing = world.gp(cpts, first_name="Yann", last_name="Volontaire")
    world.gp(cpts, first_name="Anne", last_name="Discrete")
    set_takes_requests(willing, willing.practitioner_id, True)  # what the GP's button on /gp calls
    coordinator_of(world, client, cpts)

    def states(page: str, pattern: str) -> dict[str, str]:
        return dict(re.findall(pattern, page, re.S))

    members_page = client.get("/coordination/membres").get_data(as_text=True)
    assert "Demandes de créneau" in members_page
    assert states(members_page, r'<td class="stack-wide">(\w+) \w+</td>.*?data-takes-requests="\w+">(oui|non)</td>') \
        == {"Volontaire": "oui", "Discrete": "non"}
    home = client.get(f"/coordination?cpts_id={cpts.id}").get_data(as_text=True)
    assert states(home, r'<td>Dr \w+ (\w+)</td>.*?data-takes-requests="\w+">(oui|non)</td>') \
        == {"Volontaire": "oui", "Discrete": "non"}


def test_a_directory_choice_fills_the_form_and_is_saved_as_edited(client, world, tmp_path):
    cpts = world.cpts(communes=(SAINT_GILLES, CHALLANS))
    path = tmp_path / "extract.txt"
    path.write_text(extract_text([person(7, last_name="FICTIF-GUILBAUD", first_name="Anaïs", profession="60",
                                         commune="85047", postal_code="85300", commune_name="Challans")]))
    load_extract("cli", str(path), ["85"])
    csrf = coordinator_of(world, client, cpts)

    results = client.get("/coordination/membres?q=guilbaud").get_data(as_text=True)
    assert "FICTIF-GUILBAUD Anaïs" in results and f"directory_rpps={rpps_number(7)}" in results
    form_page = client.get(f"/coordination/membres/nouveau?directory_rpps={rpps_number(7)}").get_data(as_text=True)
    assert 'value="FICTIF-GUILBAUD"' in form_page and f'value="{rpps_number(7)}"' in form_page
    assert '<option selected value="85047">Challans</option>' in form_page
    assert '<option selected value="nurse">' in form_page

    response = client.post("/coordination/membres/nouveau", data=hand_form(
        csrf, last_name="Guilbaud", first_name="Anaïs", profession="nurse", rpps=rpps_number(7),
        address="7 place du Marché", postal_code="85300", practice_siret=""))
    assert response.status_code == 302
    nurse = db.session.scalar(select(Practitioner).where(Practitioner.rpps == rpps_number(7)))
    assert (nurse.last_name, nurse.profession, nurse.commune_insee) == ("Guilbaud", "nurse", "85047")
    assert round(nurse.lat, 2) == 46.84  # the commune's centroid
    assert f"directory_rpps={rpps_number(7)}" not in client.get("/coordination/membres?q=guilbaud").get_data(as_text=True)


def test_a_bad_rpps_is_refused_next_to_its_field_and_what_was_typed_is_kept(client, world):
    cpts = world.cpts(communes=(SAINT_GILLES, CHALLANS))
    csrf = coordinator_of(world, client, cpts)
    bad = rpps_number(40)[:-1] + str((int(rpps_number(40)[-1]) + 1) % 10)

    response = client.post("/coordination/membres/nouveau", data=hand_form(csrf, rpps=bad, practice_siret="12345678901234"))

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "clé" in field_error(page, "rpps") and "clé" in field_error(page, "practice_siret")
    assert 'id="rpps"' in page and re.search(r'<input[^>]*aria-invalid="true"[^>]*autofocus[^>]*id="rpps"|'
                                             r'<input[^>]*autofocus[^>]*id="rpps"', page)
    assert 'value="Martin"' in page and 'value="3 rue du Port"' in page and f'value="{bad}"' in page
    assert db.session.scalar(select(Practitioner.id)) is None

    assert client.post("/coordination/membres/nouveau", data=hand_form(csrf)).status_code == 302
    martin = db.session.scalar(select(Practitioner).where(Practitioner.rpps == rpps_number(40)))
    assert martin.cpts_ids == [cpts.id] and round(martin.lon, 2) == -1.84


def test_editing_a_member_and_another_cpts_members_are_out_of_reach(client, world):
    cpts, other = world.cpts(communes=(SAINT_GILLES, CHALLANS)), world.cpts()
    mine = world.practitioner(cpts, last_name="Lebreton")
    theirs = world.practitioner(other, last_name="Ailleurs")
    csrf = coordinator_of(world, client, cpts)

    page = client.get(f"/coordination/membres/{mine.id}").get_data(as_text=True)
    assert 'value="Lebreton"' in page
    response = client.post(f"/coordination/membres/{mine.id}", data=hand_form(
        csrf, last_name="Le Breton", first_name="Yann", rpps=mine.rpps, commune_insee="85222"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Practitioner, mine.id).last_name == "Le Breton"
    assert client.get(f"/coordination/membres/{theirs.id}").status_code == 404
    assert client.post(f"/coordination/membres/{theirs.id}", data=hand_form(csrf, rpps=theirs.rpps)).status_code == 404
    assert client.post(f"/coordination/membres/{theirs.id}/retirer", data={"csrf_token": csrf, "free_slots": "0"}).status_code == 404
    assert db.session.get(Practitioner, theirs.id).last_name == "Ailleurs"


def test_removing_a_member_withdraws_their_future_free_slots_after_confirmation(client, world):
    cpts = world.cpts()
    member = world.practitioner(cpts, last_name="Depart")
    slots = [world.slot(member, utcnow() + timedelta(days=d)) for d in (1, 2, 3)]
    csrf = coordinator_of(world, client, cpts)

    page = client.get(f"/coordination/membres/{member.id}/retirer").get_data(as_text=True)
    assert "3 créneaux libres à venir" in page
    response = client.post(f"/coordination/membres/{member.id}/retirer", data={"csrf_token": csrf, "free_slots": "3"})
    assert response.status_code == 302
    db.session.expire_all()
    assert {db.session.get(Slot, s.id).status for s in slots} == {"withdrawn"}
    assert db.session.get(Practitioner, member.id).cpts_ids == []
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "practitioner.remove_from_cpts")).after == {
        "withdrawn_slots": 3}


def test_future_bookings_block_the_removal_and_are_listed(client, world):
    cpts = world.cpts()
    member = world.practitioner(cpts, last_name="Occupe")
    world.booking(world.slot(member, utcnow() + timedelta(days=1)))
    csrf = coordinator_of(world, client, cpts)

    page = client.get(f"/coordination/membres/{member.id}/retirer").get_data(as_text=True)
    assert "1 rendez-vous à venir" in page and 'id="future-bookings"' in page and "116 117" in page
    client.post(f"/coordination/membres/{member.id}/retirer", data={"csrf_token": csrf, "free_slots": "0"})
    db.session.expire_all()
    assert db.session.get(Practitioner, member.id).cpts_ids == [cpts.id]


def test_creating_the_members_account_gives_a_set_up_link(client, world):
    cpts = world.cpts()
    member = world.practitioner(cpts, last_name="Nouveau")
    csrf = coordinator_of(world, client, cpts)

    response = client.post(f"/coordination/membres/{member.id}/compte",
                           data={"csrf_token": csrf, "email": "h.nouveau@example.fr"})

    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert re.search(r"http://localhost/password-setup/[\w-]+", response.get_data(as_text=True))
    account = db.session.scalar(select(User).where(User.email == "h.nouveau@example.fr"))
    assert (account.role, account.practitioner_id, [c.id for c in account.cpts]) == ("gp", member.id, [cpts.id])
    again = client.post(f"/coordination/membres/{member.id}/compte",
                        data={"csrf_token": csrf, "email": "h.nouveau@example.fr"})
    assert again.status_code == 422 and field_error(again.get_data(as_text=True), "email")


def test_only_the_coordination_opens_the_members_pages(client, world):
    cpts = world.cpts()
    member = world.practitioner(cpts)
    for user in (world.user("regulator", cpts), world.gp(cpts)):
        world.sign_in_page(client, user)
        for path in ("/coordination/membres", "/coordination/membres/nouveau", f"/coordination/membres/{member.id}",
                     f"/coordination/membres/{member.id}/retirer"):
            assert client.get(path).status_code == 403, (user.role, path)


def test_the_removed_members_account_leaves_the_cpts_too(client, world):
    cpts = world.cpts()
    gp = world.gp(cpts, last_name="Parti")
    csrf = coordinator_of(world, client, cpts)

    client.post(f"/coordination/membres/{gp.practitioner_id}/retirer", data={"csrf_token": csrf, "free_slots": "0"})

    db.session.expire_all()
    account = db.session.get(User, gp.id)
    assert account.cpts == [] and not account.active
