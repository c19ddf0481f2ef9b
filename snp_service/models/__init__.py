"""All models, imported here so that Alembic and ``db.create_all`` see every table.

One module per concept, named after what it holds; import from this package.
"""
from .cpts import Commune, Cpts, members_of, practitioner_cpts, size_class_for, user_cpts  # noqa: F401
from .practitioners import Practitioner, Profession, new_calendar_token  # noqa: F401
from .accounts import ApiToken, Role, User  # noqa: F401
from .seasons import Season  # noqa: F401
from .slots import Slot, SlotMode, SlotStatus  # noqa: F401
from .patients import Patient, TreatingDoctor  # noqa: F401
from .bookings import Booking, BookingStatus, CancelledBy, Channel, Outcome, PatientLink  # noqa: F401
from .audit import AuditEvent  # noqa: F401
from .indicators import INDICATOR_CODES, INDICATORS, IndicatorValue  # noqa: F401
from .job_runs import JobRun  # noqa: F401
from .supplements import LEDGER_KINDS, SUPPLEMENT_EXCLUSIONS, SupplementAct, SupplementLine  # noqa: F401
from .outbox import MESSAGE_KINDS, MESSAGE_STATUSES, RESENDABLE_STATUSES, OutboxMessage  # noqa: F401
from .sas import (  # noqa: F401
    SAS_PUSH_EVENTS, SAS_PUSH_STATUSES, SasAppointment, SasPush, SasRegulatorIdentifier,
)
from .slot_requests import SlotRequest, SlotRequestRecipient, SlotRequestStatus  # noqa: F401
from .sign_in import PageSession, PasswordSetupLink, SignInAttempt  # noqa: F401
from .directory import DirectoryEntry, DirectoryLoad, DirectoryLoadStatus, DirectoryNameWord  # noqa: F401
from .practice import PracticeRun, TourSeen  # noqa: F401
from .second_factor import RecoveryCode, SecondFactor  # noqa: F401
