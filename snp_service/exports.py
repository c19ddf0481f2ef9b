"""Report files: CSV for French Excel, an XLSX workbook, and the geometry of the HTML report's SVG charts.

CSV columns (one header row, one row per group of the breakdown):

    key            the group: day YYYY-MM-DD, ISO week 2020-W29, weekday 1-7 (Monday = 1),
                   hour 0-23 (Paris), practitioner id, commune INSEE code or channel
                   (116117, sas, 15, other)
    label          practitioner's name or commune's name (empty for time groupings)
    offered        offered slots (not withdrawn, starting in the group; by channel: every
                   offered slot of the period, since a slot has no channel until booked)
    filled         offered slots holding an active booking (by channel: booked through it)
    fill_rate      filled / offered as a fraction (0,59), empty when nothing was offered

French Excel opens a file as UTF-8 only with a byte-order mark, and expects ``;``
between fields and a decimal comma: that is the default; ``sep=","`` and
``decimal="point"`` give the international form.
"""
from __future__ import annotations

import csv
import io
from datetime import date

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .models import CHANNELS

CSV_COLUMNS = ("key", "label", "offered", "filled", "fill_rate")
GROUP_TITLES = {"day": "Par jour", "week": "Par semaine", "weekday": "Par jour de semaine", "hour": "Par heure",
                "practitioner": "Par praticien", "commune": "Par commune", "channel": "Par canal"}
KEY_TITLES = {"day": "Jour", "week": "Semaine ISO", "weekday": "Jour de semaine (1 = lundi)", "hour": "Heure",
              "practitioner": "Praticien (id)", "commune": "Commune (INSEE)", "channel": "Canal"}
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
CHANNEL_LABELS = {"116117": "116 117", "sas": "SAS", "15": "Centre 15", "other": "Autre"}
PERCENT = "0.0%"


def breakdown_csv(rows: list[dict], *, sep: str = ";", decimal: str = "comma") -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        rate = "" if row["fill_rate"] is None else f"{row['fill_rate']:.4f}"
        if decimal == "comma":
            rate = rate.replace(".", ",")
        writer.writerow([row["key"], row.get("label", ""), row["offered"], row["filled"], rate])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def report_xlsx(report: dict, title: str) -> bytes:
    """A summary sheet, then one sheet per breakdown; numbers stay numbers, rates are percentages."""
    workbook = Workbook()
    _summary_sheet(workbook.active, report["summary"], title)
    for group_by, rows in report["breakdowns"].items():
        _breakdown_sheet(workbook.create_sheet(GROUP_TITLES[group_by]), group_by, rows)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def summary_lines(summary: dict) -> list[tuple[str, object, str]]:
    """(French label, value, kind) of the summary figures; kind is 'count', 'rate', 'decimal' or 'euros'."""
    lines = [("Créneaux offerts", summary["offered"], "count"),
             ("Créneaux pourvus", summary["filled"], "count"),
             ("Taux de remplissage", summary["fill_rate"], "rate"),
             ("Créneaux offerts par jour (moyenne)", summary["avg_offered_per_day"], "decimal"),
             ("Praticiens participants", summary["practitioners"], "count")]
    lines += [(f"Réservations {CHANNEL_LABELS[c]}", summary["bookings_by_channel"][c], "count") for c in CHANNELS]
    lines += [("Part des patients sans médecin traitant", summary["share_without_treating_doctor"], "rate"),
              ("Taux de rendez-vous non honorés", summary["no_show_rate"], "rate"),
              ("Actes régulés", summary["regulated_acts"], "count"),
              ("Majorations SNP (€)", summary["supplement_cents"] / 100, "euros")]
    return lines


def _summary_sheet(sheet, summary: dict, title: str) -> None:
    sheet.title = "Synthèse"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(["Indicateur", "Valeur"])
    for label, value, kind in summary_lines(summary):
        sheet.append([label, value])
        cell = sheet.cell(row=sheet.max_row, column=2)
        cell.number_format = {"rate": PERCENT, "decimal": "0.00", "euros": "#,##0.00 €"}.get(kind, "0")
    _header(sheet, row=2, widths=(42, 14))


def _breakdown_sheet(sheet, group_by: str, rows: list[dict]) -> None:
    labelled = group_by in ("practitioner", "commune", "weekday")
    sheet.append([KEY_TITLES[group_by]] + (["Libellé"] if labelled else []) + ["Offerts", "Pourvus", "Taux de remplissage"])
    for row in rows:
        key = date.fromisoformat(row["key"]) if group_by == "day" else row["key"]
        label = WEEKDAYS[row["key"] - 1] if group_by == "weekday" else row.get("label", "")
        sheet.append([key] + ([label] if labelled else []) + [row["offered"], row["filled"], row["fill_rate"]])
        sheet.cell(row=sheet.max_row, column=sheet.max_column).number_format = PERCENT
        if group_by == "day":
            sheet.cell(row=sheet.max_row, column=1).number_format = "DD/MM/YYYY"
    _header(sheet, row=1, widths=(16,) + ((30,) if labelled else ()) + (10, 10, 20))


def _header(sheet, row: int, widths: tuple[int, ...]) -> None:
    for cell in sheet[row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = sheet.cell(row=row + 1, column=1)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


# --- SVG charts of the HTML report (drawn by the template, computed here) ----------------------------------------

CHART_WIDTH, CHART_HEIGHT, MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 640, 220, 40, 28, 10


def rate_chart(series: list[list[dict]], labels: list[str]) -> dict:
    """Polylines of fill rates (0-100 %) over the same x axis, one per series (e.g. two seasons' weeks)."""
    count = max((len(rows) for rows in series), default=0)
    step = (CHART_WIDTH - MARGIN_LEFT - 10) / max(count - 1, 1)
    plot_height = CHART_HEIGHT - MARGIN_BOTTOM - MARGIN_TOP

    def y(rate: float) -> float:
        return round(MARGIN_TOP + plot_height * (1 - rate), 1)

    lines = []
    for rows in series:
        points = [(round(MARGIN_LEFT + i * step, 1), y(r["fill_rate"]), r) for i, r in enumerate(rows)
                  if r["fill_rate"] is not None]
        lines.append({"points": " ".join(f"{x},{py}" for x, py, _r in points),
                      "dots": [{"x": x, "y": py, "title": f"{row['key']} : {row['fill_rate'] * 100:.0f} %"}
                               for x, py, row in points]})
    ticks = [{"y": y(v / 100), "label": f"{v} %"} for v in (0, 25, 50, 75, 100)]
    x_labels = [{"x": round(MARGIN_LEFT + i * step, 1), "label": label} for i, label in enumerate(labels)]
    return _frame() | {"lines": lines, "ticks": ticks, "x_labels": x_labels}


def offered_filled_chart(days: list[dict]) -> dict:
    """Paired bars per day: offered (light) and filled (dark), on a scale of the busiest day."""
    top = max((d["offered"] for d in days), default=0) or 1
    slot = (CHART_WIDTH - MARGIN_LEFT - 10) / max(len(days), 1)
    plot_height = CHART_HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    bars = []
    for i, day in enumerate(days):
        x = MARGIN_LEFT + i * slot
        for value, kind in ((day["offered"], "offered"), (day["filled"], "filled")):
            height = round(plot_height * value / top, 1)
            bars.append({"x": round(x + (slot * 0.45 if kind == "filled" else slot * 0.05), 1),
                         "y": round(MARGIN_TOP + plot_height - height, 1), "width": round(slot * 0.45, 1),
                         "height": height, "kind": kind, "title": f"{day['key']} : {value}"})
    every = max(len(days) // 8, 1)
    x_labels = [{"x": round(MARGIN_LEFT + i * slot + slot / 2, 1), "label": f"{d['key'][8:10]}/{d['key'][5:7]}"}
                for i, d in enumerate(days) if i % every == 0]
    ticks = [{"y": round(MARGIN_TOP + plot_height * (1 - f), 1), "label": str(round(top * f))} for f in (0, 0.5, 1)]
    return _frame() | {"bars": bars, "ticks": ticks, "x_labels": x_labels}


def _frame() -> dict:
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": MARGIN_LEFT,
            "bottom": CHART_HEIGHT - MARGIN_BOTTOM, "top": MARGIN_TOP}


def season_page(report: dict) -> dict:
    """What the printable season report draws: summary lines, the two charts, the per-practitioner table."""
    weeks, days = report["breakdowns"]["week"], report["breakdowns"]["day"]
    return {"report": report, "season": report["season"], "summary_lines": summary_lines(report["summary"]),
            "week_chart": rate_chart([weeks], [w["key"].split("-")[1] for w in weeks]),
            "day_chart": offered_filled_chart(days), "practitioners": report["breakdowns"]["practitioner"]}


FIGURE_KINDS = {"fill_rate": "rate", "share_without_treating_doctor": "rate", "no_show_rate": "rate",
                "avg_offered_per_day": "decimal", "supplement_cents": "euros"}


def comparison_page(comparison: dict) -> dict:
    """The comparison's figures formatted by kind (cents shown as euros) and the two weekly curves overlaid."""
    figures = []
    for figure in comparison["figures"]:
        scale = 100 if figure["code"] == "supplement_cents" else 1
        figures.append(figure | {"kind": FIGURE_KINDS.get(figure["code"], "count"),
                                 "label": figure["label"].replace(" (centimes)", " (€)")}
                       | {side: None if figure[side] is None else figure[side] / scale for side in ("a", "b", "difference")})
    weeks = comparison["weekly"]
    series = [[{"key": f"S{w['week']}", "fill_rate": w[side]} for w in weeks] for side in ("a", "b")]
    return {"figures": figures, "week_chart": rate_chart(series, [f"S{w['week']}" for w in weeks]),
            "names": (comparison["a"]["season"].name, comparison["b"]["season"].name)}
