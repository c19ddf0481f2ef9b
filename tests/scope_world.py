"""The world of the scope tests: CPTS A and B share the LV/LVO regulation area, CPTS C is in another area.

Each CPTS has a GP with a free and a booked slot; A and C have a coordinator and a regulator;
there is one admin. Used by the scope tests (issue 15, item 1) and the authorisation matrix.

Issue 28 adds a practitioner of A and C (two regulation areas), "shared", with a free slot, a booking
made for A, one made for C and a started one made for C; and three callers:

- ``gp_AC``: the shared practitioner's GP account, given A and C (by an admin);
- ``linked_A``: a coordinator account of A linked to the shared practitioner, as coordinator A could
  create it before issue 28 (``POST /users`` took a practitioner for any role); the migration unlinks
  such accounts, the code must not need it to;
- ``coordinator_AB``: a coordinator of A and B.

Issue 23 adds an open slot request of A ("request_A"), made by A's regulator and sent to A's GP, who takes
requests.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import timedelta

from snp_service.accounts import passwords
from snp_service.core.timeutil import utcnow
from snp_service.models import Booking, Cpts, Patient, Season, Slot, SlotRequest, SlotRequestRecipient, User

from .factories import PASSWORD

AREA = "LV/LVO"
OTHER_AREA = "Nord-Vendée"
_real_hash = passwords.hash_password


@functools.lru_cache(maxsize=None)
def cached_hash(password: str) -> str:
    """scrypt once per password, not once per user (worlds are built for hundreds of tests)."""
    return _real_hash(password)


@dataclass
class ScopeWorld:
    cpts: dict[str, Cpts]
    users: dict[str, User]
    free: dict[str, Slot]
    booked: dict[str, Booking]
    more: dict[str, object] = field(default_factory=dict)  # A's second free slot, started booking, seasons


def build(world, monkeypatch) -> ScopeWorld:
    """The world, built with one commit (the tests then call services, pages and the API with it)."""
    monkeypatch.setattr(passwords, "hash_password", cached_hash)
    with world.batch():
        return _build(world)


def _build(world) -> ScopeWorld:
    cpts = {
        "A": world.cpts("CPTS A", regulation_area=AREA),
        "B": world.cpts("CPTS B", regulation_area=AREA, communes=(("85194", "Les Sables-d'Olonne", 46.4969, -1.7831),)),
        "C": world.cpts("CPTS C", regulation_area=OTHER_AREA,
                        communes=(("85092", "Fontenay-le-Comte", 46.4667, -0.8064),)),
    }
    users: dict[str, User] = {"admin": world.user("admin")}
    free, booked = {}, {}
    start = utcnow().replace(second=0, microsecond=0) + timedelta(days=1)
    for name, commune in (("A", "85222"), ("B", "85194"), ("C", "85092")):
        gp = world.gp(cpts[name], commune_insee=commune)
        users[f"gp_{name}"] = gp
        free[name] = world.slot(gp.practitioner, start)
        booked[name] = world.booking(world.slot(gp.practitioner, start + timedelta(hours=1)))
    for name in ("A", "C"):
        users[f"coordinator_{name}"] = world.user("coordinator", cpts[name])
        users[f"regulator_{name}"] = world.user("regulator", cpts[name])
    doctor_a = users["gp_A"].practitioner
    day = start.date()
    more = {
        "free_A2": world.slot(doctor_a, start + timedelta(hours=2)),
        "started_A": world.booking(world.slot(doctor_a, utcnow().replace(microsecond=0) - timedelta(minutes=10))),
        "season_A": world._save(Season(cpts_id=cpts["A"].id, name="Été", start_date=day, end_date=day + timedelta(days=60))),
        "season_A2": world._save(Season(cpts_id=cpts["A"].id, name="Hiver", start_date=day - timedelta(days=200),
                                        end_date=day - timedelta(days=140))),
    }
    _add_shared(world, cpts, users, start, more)
    _add_slot_request(world, cpts, users, more)
    return ScopeWorld(cpts, users, free, booked, more)


def _add_shared(world, cpts: dict[str, Cpts], users: dict[str, User], start, more: dict) -> None:
    shared = world.practitioner(cpts["A"], last_name="MedecinPartage")
    shared.cpts.append(cpts["C"])
    world.save_changes()
    users["gp_AC"] = world._save(User(email="gp-ac@test.example", password_hash=passwords.hash_password(PASSWORD),
                                      role="gp", practitioner_id=shared.id, cpts=[cpts["A"], cpts["C"]]))
    users["linked_A"] = world.user("coordinator", cpts["A"], practitioner=shared)
    users["coordinator_AB"] = world._save(User(email="coordination-ab@test.example", role="coordinator",
                                               password_hash=passwords.hash_password(PASSWORD),
                                               cpts=[cpts["A"], cpts["B"]]))
    more["shared"] = shared
    more["free_shared"] = world.slot(shared, start + timedelta(hours=3))
    more["shared_for_A"] = world.booking(world.slot(shared, start + timedelta(hours=4)), cpts=cpts["A"])
    more["shared_for_C"] = world.booking(world.slot(shared, start + timedelta(hours=5)), cpts=cpts["C"],
                                         first_name="Paul", last_name="Martin", phone="+33698765432")
    more["started_shared_for_C"] = world.booking(
        world.slot(shared, utcnow().replace(microsecond=0) - timedelta(minutes=20)), cpts=cpts["C"])


def _add_slot_request(world, cpts: dict[str, Cpts], users: dict[str, User], more: dict) -> None:
    practitioner = users["gp_A"].practitioner
    practitioner.takes_requests = True
    now = utcnow().replace(second=0, microsecond=0)
    request = SlotRequest(cpts_id=cpts["A"].id, requested_by_id=users["regulator_A"].id, channel="116117",
                          patient=Patient(first_name="Jeanne", last_name="Durand", phone="+33612345678",
                                          has_treating_doctor="no"),
                          reason="fièvre", commune_insee="85222", lat=46.6975, lon=-1.9428, radius_km=10,
                          not_before=now + timedelta(hours=1), not_after=now + timedelta(hours=5),
                          expires_at=now + timedelta(minutes=30), status="open")
    request.recipients = [SlotRequestRecipient(practitioner_id=practitioner.id, distance_km=0)]
    more["request_A"] = world._save(request)
