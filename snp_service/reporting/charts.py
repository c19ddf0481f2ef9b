"""What the season report and the season comparison draw: SVG chart geometry, computed here, drawn by templates.

Axis labels stay inside the drawing (a right margin for the last one), ISO weeks read
``S29``, and a long series labels every n-th point so that labels never overlap.
Colours are in ``static/report.css`` (at least 3:1 against the white background).
"""
from __future__ import annotations

from .. import formatting
from .exports import summary_lines

CHART_WIDTH, CHART_HEIGHT = 640, 220
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_BOTTOM, MARGIN_TOP = 54, 30, 30, 10
MAX_X_LABELS = 12


def _every(count: int) -> int:
    """Label one point in ``_every`` so that at most ``MAX_X_LABELS`` labels share the axis."""
    return max(-(-count // MAX_X_LABELS), 1)


def rate_chart(series: list[list[dict]], labels: list[str]) -> dict:
    """Polylines of fill rates (0-100 %) over the same x axis, one per series (e.g. two seasons' weeks)."""
    count = max((len(rows) for rows in series), default=0)
    step = (CHART_WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(count - 1, 1)
    plot_height = CHART_HEIGHT - MARGIN_BOTTOM - MARGIN_TOP

    def y(rate: float) -> float:
        return round(MARGIN_TOP + plot_height * (1 - rate), 1)

    lines = []
    for rows in series:
        points = [(round(MARGIN_LEFT + i * step, 1), y(r["fill_rate"]), r) for i, r in enumerate(rows)
                  if r["fill_rate"] is not None]
        lines.append({"points": " ".join(f"{x},{py}" for x, py, _r in points),
                      "dots": [{"x": x, "y": py, "title": f"{row['label']} : {formatting.percent(row['fill_rate'], 0)}"}
                               for x, py, row in points]})
    ticks = [{"y": y(v / 100), "label": f"{v}\xa0%"} for v in (0, 25, 50, 75, 100)]
    every = _every(len(labels))
    x_labels = [{"x": round(MARGIN_LEFT + i * step, 1), "label": label} for i, label in enumerate(labels)
                if i % every == 0 or i == len(labels) - 1]
    return _frame() | {"lines": lines, "ticks": ticks, "x_labels": x_labels}


def offered_filled_chart(days: list[dict]) -> dict:
    """Paired bars per day: offered (outlined) and filled (solid), on a scale of the busiest day."""
    top = max((d["offered"] for d in days), default=0) or 1
    slot = (CHART_WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(days), 1)
    plot_height = CHART_HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    bars = []
    for i, day in enumerate(days):
        x = MARGIN_LEFT + i * slot
        for value, kind in ((day["offered"], "offered"), (day["filled"], "filled")):
            height = round(plot_height * value / top, 1)
            bars.append({"x": round(x + (slot * 0.45 if kind == "filled" else slot * 0.05), 1),
                         "y": round(MARGIN_TOP + plot_height - height, 1), "width": round(slot * 0.45, 1),
                         "height": height, "kind": kind,
                         "title": f"{day['key'][8:10]}/{day['key'][5:7]} : {value} "
                                  + ("offerts" if kind == "offered" else "pourvus")})
    every = max(-(-len(days) // 8), 1)
    x_labels = [{"x": round(MARGIN_LEFT + i * slot + slot / 2, 1), "label": f"{d['key'][8:10]}/{d['key'][5:7]}"}
                for i, d in enumerate(days) if i % every == 0]
    ticks = [{"y": round(MARGIN_TOP + plot_height * (1 - f), 1), "label": formatting.number(round(top * f))}
             for f in (0, 0.5, 1)]
    return _frame() | {"bars": bars, "ticks": ticks, "x_labels": x_labels}


def _frame() -> dict:
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": MARGIN_LEFT, "right": CHART_WIDTH - MARGIN_RIGHT,
            "bottom": CHART_HEIGHT - MARGIN_BOTTOM, "top": MARGIN_TOP}


def season_page(report: dict) -> dict:
    """What the season report draws: summary lines, the two charts, the per-practitioner table."""
    weeks, days = report["breakdowns"]["week"], report["breakdowns"]["day"]
    labelled = [w | {"label": formatting.week(w["key"])} for w in weeks]
    return {"report": report, "season": report["season"], "summary_lines": summary_lines(report["summary"]),
            "week_chart": rate_chart([labelled], [w["label"] for w in labelled]),
            "day_chart": offered_filled_chart(days), "practitioners": report["breakdowns"]["practitioner"]}




def comparison_page(comparison: dict) -> dict:
    """The comparison's figures with their kind (the template formats them) and the two weekly curves overlaid.

    Seasons are aligned on their own weeks (week 1 = the first seven days), labelled ``Sem. 1``
    so as not to be read as ISO week 1.
    """
    figures = [figure | {"kind": formatting.FIGURE_KINDS.get(figure["code"], "count")} for figure in comparison["figures"]]
    weeks = comparison["weekly"]
    labels = [f"Sem.\xa0{w['week']}" for w in weeks]
    series = [[{"key": w["week"], "label": label, "fill_rate": w[side]} for w, label in zip(weeks, labels)]
              for side in ("a", "b")]
    return {"figures": figures, "week_chart": rate_chart(series, labels),
            "names": (comparison["a"]["season"].name, comparison["b"]["season"].name)}
