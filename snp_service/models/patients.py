"""The patient of a booking: minimal data (health data under GDPR)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from ..core.codes import Codes
from ..core.database import UTCDateTime
from ..core.extensions import db



class TreatingDoctor(Codes):
    """Whether the patient has a treating doctor (médecin traitant), as the caller answered."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class Patient(db.Model):
    """Minimal patient data (health data under GDPR); identity erased after the retention period."""

    __tablename__ = "patient"
    __table_args__ = (
        CheckConstraint(TreatingDoctor.sql_in("has_treating_doctor"), name="treating_answer_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(20))
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    has_treating_doctor: Mapped[str] = mapped_column(String(10), default=TreatingDoctor.UNKNOWN.value)
    treating_rpps: Mapped[str | None] = mapped_column(String(11))
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:  # never print identity, even in a debugger or a traceback
        return f"<Patient {self.id}>"
