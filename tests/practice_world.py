"""A real area for the practice space's tests: a CPTS of two communes, five practitioners, real slots and a real
booking, a regulator, a coordinator and a GP; and the page-session steps of a trainee."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from snp_service.core.timeutil import PARIS, paris_today
from snp_service.models import Cpts, Practitioner, Slot, User

from .factories import World, page_csrf

COMMUNES = (("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),
            ("85226", "Saint-Hilaire-de-Riez", 46.7206, -1.9461))
DOCTORS = (("Bonnet", "85222", 46.6975, -1.9428), ("Morel", "85226", 46.7206, -1.9461),
           ("Garnier", "85222", 46.70, -1.94), ("Lemoine", "85226", 46.72, -1.95), ("Roussel", "85222", 46.69, -1.93))


@dataclass
class Area:
    cpts: Cpts
    doctors: list[Practitioner]
    regulator: User
    coordinator: User
    gp: User
    real_slots: list[Slot]


def build_area(world: World) -> Area:
    """The area, built with one commit."""
    with world.batch():
        return _build_area(world)


def _build_area(world: World) -> Area:
    cpts = world.cpts(name="CPTS Côte de Lumière", regulation_area="Vendée", communes=COMMUNES)
    doctors = [world.practitioner(cpts, last_name=name, commune_insee=insee, lat=lat, lon=lon)
               for name, insee, lat, lon in DOCTORS]
    tomorrow = datetime.combine(paris_today() + timedelta(days=1), time(10), PARIS)
    slots = []
    for doctor in doctors[:3]:
        slots.append(world.slot(doctor, tomorrow))
        booked = world.slot(doctor, tomorrow + timedelta(minutes=30))
        world.booking(booked, first_name="Jeanne", last_name="Durand")
        slots.append(booked)
    return Area(cpts=cpts, doctors=doctors, regulator=world.user("regulator", cpts),
                coordinator=world.user("coordinator", cpts), gp=world.user("gp", cpts, doctors[0]), real_slots=slots)


def enter_practice(client, user: User, signed_in: bool = False) -> str:
    """Sign ``client`` in as ``user`` (unless ``signed_in``) and enter the practice space; returns the page's CSRF
    token."""
    if not signed_in:
        World.sign_in_page(client, user)
    token = page_csrf(client, "/regulation/entrainement")
    assert client.post("/regulation/entrainement", data={"csrf_token": token}).status_code == 302
    return token


def start_scenario(client, token: str, number: int) -> None:
    answer = client.post(f"/regulation/entrainement/scenarios/{number}", data={"csrf_token": token})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]


def caller_patient(**changes) -> dict:
    patient = {"first_name": "Léa", "last_name": "Morel", "birth_date": "1992-03-12", "phone": "06 12 34 56 78",
               "commune_insee": "85222", "has_treating_doctor": "unknown", "treating_rpps": None}
    return patient | changes


def book(client, token: str, slot_id: int, **patient):
    return client.post("/api/v1/bookings", json={"slot_id": slot_id, "patient": caller_patient(**patient),
                                                 "reason": "Fièvre", "channel": "116117", "notify_patient": True},
                       headers={"X-CSRFToken": token})


def search(client, **params):
    return client.get("/api/v1/slots/search", query_string=params).get_json()["results"]


def send_slot_request(client, token: str):
    """ "Demander un créneau" for the caller of scenario 9, as the console sends it."""
    not_before = datetime.now(PARIS).replace(microsecond=0) + timedelta(minutes=30)
    return client.post("/api/v1/slot-requests", headers={"X-CSRFToken": token}, json={
        "patient": caller_patient(first_name="Nadia", last_name="Lopez", birth_date="1981-01-01",
                                  phone="06 67 89 01 23"),
        "reason": "Éruption", "channel": "116117", "commune_insee": "85222", "profession": "gp", "mode": "office",
        "not_before": not_before.isoformat(), "not_after": (not_before + timedelta(hours=4)).isoformat(),
        "radius_km": 30, "notify_patient": True})


def finish(client, token: str, **metrics):
    body = {"duration_ms": 42_000, "navigation_keys": 9, "typed_chars": 60, "errors": []} | metrics
    return client.post("/regulation/entrainement/fin", json=body, headers={"X-CSRFToken": token})
