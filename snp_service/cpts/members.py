"""The members page's services: the list with account status, editing, removing from a CPTS."""
from __future__ import annotations

from sqlalchemy import and_, func, select, update

from .. import audit
from ..accounts.users import end_sessions_and_tokens
from ..core.database import write_transaction
from ..core.errors import Conflict, Invalid, NotFound
from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import (
    Booking, BookingStatus, Practitioner, Slot, SlotStatus, User, members_of, practitioner_cpts,
)
from .practitioners import _PRACTITIONER_FIELDS, _fill_from_commune, check_sas_ready, check_typed_identifiers
from .record import get_cpts

EDITABLE = tuple(k for k in _PRACTITIONER_FIELDS if k != "rpps")


def member_rows(cpts_id: int, profession: str | None = None, commune_insee: str | None = None) -> list[dict]:
    """The CPTS's members, each with their account's status (none, active, deactivated)."""
    query = select(Practitioner).where(Practitioner.id.in_(members_of([cpts_id])))
    if profession:
        query = query.where(Practitioner.profession == profession)
    if commune_insee:
        query = query.where(Practitioner.commune_insee == commune_insee)
    practitioners = list(db.session.scalars(query.order_by(Practitioner.last_name, Practitioner.first_name)))
    accounts = {}
    if practitioners:
        for account in db.session.scalars(select(User).where(User.practitioner_id.in_([p.id for p in practitioners]))):
            accounts.setdefault(account.practitioner_id, account)
    return [{"practitioner": p, "account": accounts.get(p.id)} for p in practitioners]


def account_of(practitioner_id: int) -> User | None:
    """The practitioner's account (a GP account), if one was created."""
    return db.session.scalars(select(User).where(User.practitioner_id == practitioner_id).limit(1)).first()


def update_member(actor: User, practitioner_id: int, data: dict) -> Practitioner:
    """Change a member's record (not the RPPS: another RPPS is another person)."""
    check_typed_identifiers(data)
    with write_transaction():
        practitioner = db.session.get(Practitioner, practitioner_id, with_for_update=True)
        if practitioner is None:
            raise NotFound("Praticien introuvable")
        before = {k: getattr(practitioner, k) for k in EDITABLE if k in data}
        commune_changed = "commune_insee" in data and data["commune_insee"] != practitioner.commune_insee
        for key in EDITABLE:
            if key in data:
                setattr(practitioner, key, data[key])
        if commune_changed and "lat" not in data:
            practitioner.lat = practitioner.lon = None
        _fill_from_commune(practitioner)
        if practitioner.sas_participation:
            check_sas_ready(practitioner)
        audit.record(actor, "practitioner.update", practitioner, before={"changed": sorted(before)},
                     after={"changed": sorted(before)})
    return practitioner


def removal_check(practitioner_id: int, cpts_id: int) -> dict:
    """What removing the member from the CPTS would do: future free slots withdrawn (if it is their last
    CPTS) and future bookings, which block it."""
    now = utcnow()
    last = _other_cpts(practitioner_id, cpts_id) == 0
    free = db.session.scalar(select(func.count()).select_from(Slot).where(
        Slot.practitioner_id == practitioner_id, Slot.status == SlotStatus.FREE, Slot.start_at > now)) if last else 0
    bookings = list(db.session.execute(
        select(Booking.id, Slot.start_at, Booking.channel).join(Slot, Slot.id == Booking.slot_id).where(
            Slot.practitioner_id == practitioner_id, Booking.status == BookingStatus.BOOKED, Slot.start_at > now,
            *(() if last else (Booking.cpts_id == cpts_id,))).order_by(Slot.start_at)))
    return {"free_slots": free, "bookings": bookings, "last_cpts": last}


def remove_member(actor: User, practitioner_id: int, cpts_id: int, free_slots_seen: int) -> int:
    """Remove the practitioner from the CPTS; their future free slots are withdrawn when it was their last
    CPTS. Refused while future bookings remain, or when the count confirmed is no longer the count.
    Returns the number of slots withdrawn."""
    with write_transaction():
        practitioner = db.session.get(Practitioner, practitioner_id, with_for_update=True)
        if practitioner is None or cpts_id not in practitioner.cpts_ids:
            raise NotFound("Praticien introuvable")
        check = removal_check(practitioner_id, cpts_id)
        if check["bookings"]:
            raise Conflict(f"{len(check['bookings'])} rendez-vous à venir : annulez-les ou déplacez-les d'abord",
                           code="member_has_bookings", fields={"bookings": [str(b.id) for b in check["bookings"]]})
        if check["free_slots"] != free_slots_seen:
            raise Conflict(f"Le nombre de créneaux libres à venir a changé ({check['free_slots']}) : confirmez de nouveau",
                           code="free_slots_changed")
        withdrawn = 0
        if check["last_cpts"]:
            withdrawn = db.session.execute(update(Slot).where(
                Slot.practitioner_id == practitioner_id, Slot.status == SlotStatus.FREE, Slot.start_at > utcnow())
                .values(status=SlotStatus.WITHDRAWN)).rowcount
        db.session.execute(practitioner_cpts.delete().where(and_(
            practitioner_cpts.c.practitioner_id == practitioner_id, practitioner_cpts.c.cpts_id == cpts_id)))
        _narrow_accounts(actor, practitioner_id, cpts_id)
        audit.record(actor, "practitioner.remove_from_cpts", practitioner, before={"cpts_id": cpts_id},
                     after={"withdrawn_slots": withdrawn})
    db.session.expire_all()
    return withdrawn


def _narrow_accounts(actor: User, practitioner_id: int, cpts_id: int) -> None:
    """A GP account is linked only to a member of each of its CPTS: the member's account leaves the CPTS too,
    and is deactivated when it is left with none."""
    for account in db.session.scalars(select(User).where(User.practitioner_id == practitioner_id)):
        if cpts_id not in {c.id for c in account.cpts}:
            continue
        account.cpts = [c for c in account.cpts if c.id != cpts_id]
        if not account.cpts:
            account.active = False
            end_sessions_and_tokens(account.id)
        audit.record(actor, "user.scope_change", account, before={"cpts_id": cpts_id},
                     after={"cpts_ids": [c.id for c in account.cpts], "active": account.active})


def _other_cpts(practitioner_id: int, cpts_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(practitioner_cpts).where(
        practitioner_cpts.c.practitioner_id == practitioner_id, practitioner_cpts.c.cpts_id != cpts_id))


def territory_choices(cpts_id: int) -> list[tuple[str, str]]:
    return [(c.insee, c.name) for c in sorted(get_cpts(cpts_id).communes, key=lambda c: c.name)]
