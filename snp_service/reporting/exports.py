"""Report and statement files for spreadsheets: CSV for French Excel and XLSX workbooks, with French headers.

Fill-rate CSV columns (one header row, one row per group of the breakdown), by grouping:

    Jour (dd/mm/yyyy) | Semaine ISO (2020-S29) | Jour de la semaine (lundi) | Heure (14:00)
    | RPPS and Praticien | Code INSEE and Commune | Canal (116 117, SAS, Centre 15, Autre),
    then Créneaux offerts, Créneaux pourvus, Taux de remplissage (%) (59,26; empty when nothing
    was offered). By channel, "offered" is every offered slot of the period (a slot has no
    channel until booked) and "filled" the slots booked through that channel.

Supplement statement CSV: ``RPPS;Nom;Prénom;Actes majorés;Montant (€)`` per practitioner and a
``Total`` row; with ``detail=1`` one row per act: ``RPPS;Nom;Prénom;N° de réservation;Date;Heure;
Canal;Majoré;Motif d'exclusion``. The JSON answers keep their English keys; only files meant
for spreadsheets speak French. Every file goes through ``spreadsheets`` (one CSV writer,
guarded against formula injection).
"""
from __future__ import annotations

from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font

from .. import formatting
from ..core.spreadsheets import DAY, EUROS, PERCENT, append_row, cents_to_euros, csv_bytes, header, title, xlsx_bytes
from ..models import Channel

GROUP_TITLES = {"day": "Par jour", "week": "Par semaine", "weekday": "Par jour de semaine", "hour": "Par heure",
                "practitioner": "Par praticien", "commune": "Par commune", "channel": "Par canal",
                "profession": "Par profession"}
# Per grouping: the columns naming the group, and their values for a breakdown row.
KEY_COLUMNS = {
    "day": (("Jour",), lambda row: [date.fromisoformat(row["key"])]),
    "week": (("Semaine ISO",), lambda row: [formatting.iso_week(row["key"])]),
    "weekday": (("Jour de la semaine",), lambda row: [formatting.weekday(row["key"])]),
    "hour": (("Heure",), lambda row: [f"{row['key']:02d}:00"]),
    "practitioner": (("RPPS", "Praticien"), lambda row: [row.get("rpps", ""), row.get("label", "")]),
    "commune": (("Code INSEE", "Commune"), lambda row: [row["key"], row.get("label", "")]),
    "channel": (("Canal",), lambda row: [formatting.channel(row["key"])]),
    "profession": (("Profession",), lambda row: [formatting.PROFESSION_LABELS.get(row["key"], row["key"])]),
}
FIGURE_COLUMNS = ("Créneaux offerts", "Créneaux pourvus")
# What the API documents of each CSV (the OpenAPI descriptions).
FILL_RATE_CSV_DOC = ("French headers; group columns Jour | Semaine ISO | Jour de la semaine | Heure | RPPS, Praticien "
                     "| Code INSEE, Commune | Canal | Profession, then Créneaux offerts, Créneaux pourvus, Taux de remplissage (%).")
STATEMENT_CSV_DOC = ("French headers: RPPS;Nom;Prénom;Actes majorés;Montant (€) and a Total row; with detail=1 one row "
                     "per act: RPPS;Nom;Prénom;N° de réservation;Date;Heure;Canal;Majoré;Motif d'exclusion.")
STATEMENT_COLUMNS = ("RPPS", "Nom", "Prénom", "Actes majorés", "Montant (€)")
ACT_COLUMNS = ("RPPS", "Nom", "Prénom", "N° de réservation", "Date", "Heure", "Canal", "Majoré", "Motif d'exclusion")


def _key_columns(group_by: str):
    return KEY_COLUMNS.get(group_by, (("Groupe",), lambda row: [str(row["key"])]))


# --- Fill-rate reports ------------------------------------------------------------------------------------------


def breakdown_csv(rows: list[dict], group_by: str, *, sep: str = ";", decimal: str = "comma") -> bytes:
    titles, key_values = _key_columns(group_by)
    body = ([*key_values(row), row["offered"], row["filled"],
             None if row["fill_rate"] is None else round(row["fill_rate"] * 100, 2)] for row in rows)
    return csv_bytes([*titles, *FIGURE_COLUMNS, "Taux de remplissage (%)"], body, sep=sep, decimal=decimal)


def report_xlsx(report: dict, report_title: str) -> bytes:
    """A summary sheet, then one sheet per breakdown; numbers stay numbers, rates are percentages."""
    workbook = Workbook()
    _summary_sheet(workbook.active, report["summary"], report_title)
    for group_by, rows in report["breakdowns"].items():
        _breakdown_sheet(workbook.create_sheet(GROUP_TITLES.get(group_by, group_by)), group_by, rows)
    return xlsx_bytes(workbook)


def summary_lines(summary: dict) -> list[tuple[str, object, str]]:
    """(French label, value, kind) of the summary figures; kind as ``formatting.figure`` takes it."""
    lines = [("Créneaux offerts", summary["offered"], "count"),
             ("Créneaux pourvus", summary["filled"], "count"),
             ("Taux de remplissage", summary["fill_rate"], "rate"),
             ("Créneaux offerts par jour (moyenne)", summary["avg_offered_per_day"], "decimal"),
             ("Praticiens participants", summary["practitioners"], "count")]
    lines += [(f"Réservations {formatting.channel(c)}", summary["bookings_by_channel"][c], "count") for c in Channel.values()]
    lines += [("Part des patients sans médecin traitant", summary["share_without_treating_doctor"], "rate"),
              ("Taux de rendez-vous non honorés", summary["no_show_rate"], "rate"),
              ("Actes régulés", summary["regulated_acts"], "count"),
              ("Majorations SNP", summary["supplement_cents"], "cents"),
              ("Annulations par le patient", summary["patient_cancellations"], "count"),
              ("Part des rendez-vous confirmés par le patient", summary["confirmed_share"], "rate"),
              ("Taux de non honorés, rendez-vous confirmés", summary["no_show_rate_confirmed"], "rate"),
              ("Taux de non honorés, rendez-vous non confirmés", summary["no_show_rate_unconfirmed"], "rate")]
    if "requests_sent" in summary:
        lines += [("Demandes de créneau envoyées", summary["requests_sent"], "count"),
                  ("Demandes de créneau acceptées", summary["requests_accepted"], "count"),
                  ("Demandes de créneau expirées", summary["requests_expired"], "count"),
                  ("Délai médian d'acceptation (minutes)", summary["median_minutes_to_accept"], "decimal")]
    return lines


def _summary_sheet(sheet, summary: dict, report_title: str) -> None:
    sheet.title = "Synthèse"
    title(sheet, report_title)
    sheet.append(["Indicateur", "Valeur"])
    for label, value, kind in summary_lines(summary):
        if kind == "cents":
            value = cents_to_euros(value)
        append_row(sheet, [label, value], [None, {"rate": PERCENT, "decimal": "0.00", "cents": EUROS}.get(kind, "0")])
    header(sheet, row=2, widths=(42, 14))


def _breakdown_sheet(sheet, group_by: str, rows: list[dict]) -> None:
    titles, key_values = _key_columns(group_by)
    sheet.append([*titles, "Offerts", "Pourvus", "Taux de remplissage"])
    for row in rows:
        keys = key_values(row)
        append_row(sheet, [*keys, row["offered"], row["filled"], row["fill_rate"]],
                   [DAY if group_by == "day" else None] * len(keys) + [None, None, PERCENT])
    widths = {"practitioner": (14, 30), "commune": (12, 30)}.get(group_by, (20,))
    header(sheet, row=1, widths=widths + (10, 10, 20))


# --- Supplement statements ------------------------------------------------------------------------------------


def statement_csv(statement: dict, *, detail: bool, sep: str = ";", decimal: str = "comma") -> bytes:
    """The statement per practitioner with a total row, or (``detail``) one row per act with its verdict."""
    if detail:
        return csv_bytes(ACT_COLUMNS, _act_rows(statement), sep=sep, decimal=decimal)
    rows = [[*_who(line), line["eligible_acts"], cents_to_euros(line["amount_cents"])] for line in statement["lines"]]
    rows.append(["Total", "", "", sum(line["eligible_acts"] for line in statement["lines"]),
                 cents_to_euros(statement["total_cents"])])
    return csv_bytes(STATEMENT_COLUMNS, rows, sep=sep, decimal=decimal)


def statement_xlsx(statement: dict, statement_title: str) -> bytes:
    """Sheet "Synthèse" (one line per practitioner, the total), sheet "Détail des actes" (needs a ``detail`` statement)."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Synthèse"
    title(sheet, statement_title)
    sheet.append(["RPPS", "Nom", "Prénom", "Actes majorés", "Actes non majorés", "Montant (€)"])
    formats = [None, None, None, "0", "0", EUROS]
    for line in statement["lines"]:
        excluded = sum(not act["eligible"] for act in line["acts"]) if isinstance(line["acts"], list) else None
        append_row(sheet, [*_who(line), line["eligible_acts"], excluded, cents_to_euros(line["amount_cents"])], formats)
    total = append_row(sheet, ["Total", None, None, sum(line["eligible_acts"] for line in statement["lines"]), None,
                               cents_to_euros(statement["total_cents"])], formats)
    for cell in sheet[total]:
        cell.font = Font(bold=True)
    header(sheet, row=2, widths=(14, 22, 18, 14, 18, 14))

    acts = workbook.create_sheet("Détail des actes")
    acts.append(list(ACT_COLUMNS))
    for row in _act_rows(statement, typed=True):
        append_row(acts, row, [None, None, None, "0", DAY, "HH:MM"])
    header(acts, row=1, widths=(14, 22, 18, 16, 12, 8, 12, 9, 58))
    return xlsx_bytes(workbook)


def _act_rows(statement: dict, typed: bool = False):
    for line in statement["lines"]:
        for act in line["acts"] if isinstance(line["acts"], list) else ():
            start = datetime.fromisoformat(act["start"])  # already Europe/Paris
            when = [start.date(), start.time().replace(tzinfo=None)] if typed else \
                [f"{start:%d/%m/%Y}", f"{start:%H:%M}"]
            yield [*_who(line), act["booking_id"], *when, formatting.channel(act["channel"]),
                   "oui" if act["eligible"] else "non", formatting.exclusion(act["excluded_by"])]


def _who(line: dict) -> list[str]:
    return [line["rpps"], line["last_name"], line["first_name"]]
