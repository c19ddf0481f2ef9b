"""All models, imported here so that Alembic and ``db.create_all`` see every table."""
from .agenda import (  # noqa: F401
    BOOKING_STATUSES, CANCELLED_BY, CHANNELS, OUTCOMES, REGULATED_CHANNELS, SLOT_MODES, SLOT_STATUSES,
    TREATING_DOCTOR_ANSWERS, Booking, Patient, Slot,
)
from .audit import AuditEvent  # noqa: F401
from .people import PROFESSIONS, ROLES, ApiToken, Practitioner, User  # noqa: F401
from .territory import Commune, Cpts, Season, practitioner_cpts, size_class_for, user_cpts  # noqa: F401
