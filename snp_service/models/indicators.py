"""ACI indicators of the SNP mission, stored per CPTS and period in the CPTS record."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Float, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..core.database import UTCDateTime
from ..core.extensions import db
from ..core.timeutil import utcnow

# (code, French label) in the order of SPEC section 3.
INDICATORS = (
    ("participating_practitioners", "Praticiens participants"),
    ("offered_slots", "Créneaux proposés"),
    ("avg_offered_per_day", "Créneaux proposés par jour (moyenne)"),
    ("fill_rate", "Taux de remplissage"),
    ("bookings_by_channel", "Réservations par canal"),
    ("share_without_treating_doctor", "Part des patients sans médecin traitant"),
    ("no_show_rate", "Taux de rendez-vous non honorés"),
    ("regulated_acts", "Actes régulés"),
    ("supplement_cents", "Majorations SNP"),
    ("requests_sent", "Demandes de créneau envoyées"),
    ("requests_accepted", "Demandes de créneau acceptées"),
    ("requests_expired", "Demandes de créneau expirées"),
    ("median_minutes_to_accept", "Délai médian d'acceptation d'une demande (minutes)"),
    ("patient_cancellations", "Annulations par le patient"),
    ("confirmed_share", "Part des rendez-vous confirmés par le patient"),
    ("no_show_rate_confirmed", "Taux de non honorés, rendez-vous confirmés"),
    ("no_show_rate_unconfirmed", "Taux de non honorés, rendez-vous non confirmés"),
)
INDICATOR_CODES = tuple(code for code, _label in INDICATORS)


class IndicatorValue(db.Model):
    __tablename__ = "indicator_value"
    __table_args__ = (
        UniqueConstraint("cpts_id", "period", "code", name="uq_indicator_value"),
        CheckConstraint(f"code IN {INDICATOR_CODES}", name="code_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cpts_id: Mapped[int] = mapped_column(ForeignKey("cpts.id", ondelete="CASCADE"))
    # "2020-07", "2020-Q3", "2020" or "season:<id>".
    period: Mapped[str] = mapped_column(String(30))
    code: Mapped[str] = mapped_column(String(40))
    # A number, or {channel: count} for bookings_by_channel.
    value: Mapped[object] = mapped_column(JSON)
    target: Mapped[float | None] = mapped_column(Float)
    achievement: Mapped[float | None] = mapped_column(Float)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
