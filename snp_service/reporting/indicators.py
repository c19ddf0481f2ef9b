"""ACI indicators of the SNP mission (SPEC section 3) per CPTS and period, stored in the CPTS record.

Periods: a month ``2020-07``, a quarter ``2020-Q3``, a year ``2020`` or a season
``season:<id>``. Figures come from the report summary, so an indicator always
equals the report of the same days. Achievement is value / target; it is read
against the CPTS's current targets, so a target edited today shows at once.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import delete, select

from .. import audit
from ..core.database import write_transaction
from ..core.errors import Invalid, NotFound
from ..core.extensions import db
from ..core.timeutil import BOUNDS_TEXT, FIRST_DAY, LAST_DAY, month_end, paris_today, utcnow
from ..cpts.record import get_cpts
from ..models import INDICATORS, Cpts, IndicatorValue, Season

# Indicator code -> key of the report summary (SPEC section 4, Report).
_SUMMARY_KEYS = {
    "participating_practitioners": "practitioners",
    "offered_slots": "offered",
    "avg_offered_per_day": "avg_offered_per_day",
    "fill_rate": "fill_rate",
    "bookings_by_channel": "bookings_by_channel",
    "share_without_treating_doctor": "share_without_treating_doctor",
    "no_show_rate": "no_show_rate",
    "regulated_acts": "regulated_acts",
    "supplement_cents": "supplement_cents",
    "requests_sent": "requests_sent",
    "requests_accepted": "requests_accepted",
    "requests_expired": "requests_expired",
    "median_minutes_to_accept": "median_minutes_to_accept",
    "patient_cancellations": "patient_cancellations",
    "confirmed_share": "confirmed_share",
    "no_show_rate_confirmed": "no_show_rate_confirmed",
    "no_show_rate_unconfirmed": "no_show_rate_unconfirmed",
}
PERIOD_HELP = "expected YYYY-MM, YYYY-Qn, YYYY or season:<id>"


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date


def parse_period(cpts_id: int, text: str) -> Period:
    """The Paris days of a period of this CPTS; 422 on a malformed period, 404 on another CPTS's season."""
    text = (text or "").strip()
    if match := re.fullmatch(r"(\d{4})-(\d{2})", text):
        year, month = _year(match[1]), int(match[2])
        if 1 <= month <= 12:
            return Period(text, date(year, month, 1), month_end(year, month))
    elif match := re.fullmatch(r"(\d{4})-Q([1-4])", text):
        year, quarter = _year(match[1]), int(match[2])
        return Period(text, date(year, 3 * quarter - 2, 1), month_end(year, 3 * quarter))
    elif re.fullmatch(r"\d{4}", text):
        return Period(text, date(_year(text), 1, 1), date(_year(text), 12, 31))
    elif match := re.fullmatch(r"season:(\d{1,9})", text):
        season = db.session.get(Season, int(match[1]))
        if season is None or season.cpts_id != cpts_id:
            raise NotFound("Saison introuvable")
        return Period(text, season.start_date, season.end_date)
    raise Invalid("Période invalide", fields={"period": [PERIOD_HELP]}, code="invalid_period")


def _year(text: str) -> int:
    """A year of a period: years 0 and 9999 would overflow the date arithmetic (a 500, not a 422)."""
    year = int(text)
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise Invalid(f"Période hors limites ({BOUNDS_TEXT})", code="invalid_period",
                      fields={"period": [f"year between {FIRST_DAY.year} and {LAST_DAY.year}"]})
    return year


def _values(cpts_id: int, period: Period) -> dict:
    from .fill_rate import summary  # the reporting module owns the report SQL

    figures = summary([cpts_id], period.start, period.end)
    return {code: figures[key] for code, key in _SUMMARY_KEYS.items()}


def achievement(value, target) -> float | None:
    if target in (None, 0) or isinstance(value, (dict, type(None))):
        return None
    return value / target


def compute(actor, cpts_id: int, period_text: str) -> list[IndicatorValue]:
    """Compute and store the indicators of one CPTS and period; running twice gives the same rows."""
    cpts = get_cpts(cpts_id)
    period = parse_period(cpts_id, period_text)
    values = _values(cpts_id, period)
    targets = cpts.indicator_targets or {}
    computed_at = utcnow()
    with write_transaction():
        db.session.execute(delete(IndicatorValue).where(IndicatorValue.cpts_id == cpts_id,
                                                         IndicatorValue.period == period.label))
        rows = [IndicatorValue(cpts_id=cpts_id, period=period.label, code=code, value=value,
                               target=targets.get(code), achievement=achievement(value, targets.get(code)),
                               computed_at=computed_at)
                for code, value in values.items()]
        db.session.add_all(rows)
        audit.record(actor, "indicators.compute", cpts, after={"period": period.label, "indicators": len(rows)})
    return rows


def due_periods(cpts: Cpts, today: date, open_days: int) -> list[str]:
    """The periods the nightly job refreshes: every month, quarter, year and season holding a day still open.

    A day is open for ``open_days`` (the supplement recompute window): late outcomes,
    cancellations and ledger corrections still change its figures. Refreshing every period
    that holds such a day keeps a quarter or a year equal to its months once it has ended.
    """
    first = today - timedelta(days=open_days)
    periods: dict[str, None] = {}  # ordered, without repeats
    day = first.replace(day=1)
    while day <= today:
        periods |= dict.fromkeys((f"{day:%Y-%m}", f"{day.year}-Q{(day.month - 1) // 3 + 1}", f"{day.year}"))
        day = month_end(day.year, day.month) + timedelta(days=1)
    periods |= dict.fromkeys(f"season:{s.id}" for s in cpts.seasons if s.start_date <= today and s.end_date >= first)
    return list(periods)


def compute_due(actor: str = "job:compute_indicators", today: date | None = None) -> dict:
    today = today or paris_today()
    open_days = current_app.config["SUPPLEMENT_RECOMPUTE_DAYS"]
    computed = 0
    cpts_ids = db.session.scalars(select(Cpts.id).order_by(Cpts.id)).all()
    for cpts_id in cpts_ids:
        for period in due_periods(get_cpts(cpts_id), today, open_days):
            computed += len(compute(actor, cpts_id, period))
    return {"cpts": len(cpts_ids), "values": computed}


def read(cpts_id: int, period_text: str) -> dict:
    """``{period, computed_at, indicators: [{code, label, value, target, achievement}]}``.

    Stored values when the job computed the period, otherwise computed now (and not stored).
    """
    cpts = get_cpts(cpts_id)
    period = parse_period(cpts_id, period_text)
    stored = db.session.scalars(select(IndicatorValue).where(IndicatorValue.cpts_id == cpts_id,
                                                             IndicatorValue.period == period.label)).all()
    if stored:
        values = {row.code: row.value for row in stored}
        computed_at = max(row.computed_at for row in stored)
        computed = {row.code: row.computed_at for row in stored}
    else:
        values, computed_at = _values(cpts_id, period), utcnow()
        computed = {}
    targets = cpts.indicator_targets or {}
    # ``computed_at`` of each value: when the job (or "Recalculer maintenant") stored it; now when computed live.
    indicators = [{"code": code, "label": label, "value": values.get(code), "target": targets.get(code),
                   "achievement": achievement(values.get(code), targets.get(code)),
                   "computed_at": computed.get(code, computed_at)}
                  for code, label in INDICATORS]
    return {"period": period.label, "computed_at": computed_at, "indicators": indicators}
