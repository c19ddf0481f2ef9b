"""All models, imported here so that Alembic and ``db.create_all`` see every table."""
from .agenda import (  # noqa: F401
    BOOKING_STATUSES, CANCELLED_BY, CHANNELS, OUTCOMES, REGULATED_CHANNELS, SLOT_MODES, SLOT_STATUSES,
    TREATING_DOCTOR_ANSWERS, Booking, Patient, Slot,
)
from .audit import AuditEvent  # noqa: F401
from .people import PROFESSIONS, ROLES, ApiToken, Practitioner, User  # noqa: F401
from .territory import Commune, Cpts, Season, practitioner_cpts, size_class_for, user_cpts  # noqa: F401
from .fill_rates import FillRateSnapshot  # noqa: F401
from .indicators import INDICATOR_CODES, INDICATORS, IndicatorValue  # noqa: F401
from .job_runs import JobRun  # noqa: F401
from .supplements import LEDGER_KINDS, SUPPLEMENT_EXCLUSIONS, SupplementAct, SupplementLine  # noqa: F401
from .outbox import MESSAGE_KINDS, MESSAGE_STATUSES, RESENDABLE_STATUSES, OutboxMessage  # noqa: F401
from .sas import (  # noqa: F401
    SAS_PUSH_EVENTS, SAS_PUSH_STATUSES, SasAppointment, SasPush, SasRegulatorIdentifier,
)
