"""Factories: each test builds exactly the world it needs (Indico's habit)."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from snp_service import accounts
from snp_service.extensions import db
from snp_service.models import Booking, Commune, Cpts, Patient, Practitioner, Slot, User
from snp_service.timeutil import utcnow

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


class World:
    def cpts(self, name: str | None = None, population: int = 50_000, regulation_area: str | None = None,
             communes=(("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428),)) -> Cpts:
        cpts = Cpts(name=name or f"CPTS {next(_seq)}", population=population, regulation_area=regulation_area,
                    communes=[Commune(insee=i, name=n, lat=la, lon=lo) for i, n, la, lo in communes])
        return self._save(cpts)

    def practitioner(self, cpts: Cpts, *, rpps: str | None = None, last_name: str | None = None,
                     first_name: str = "Alex", commune_insee: str = "85222", lat: float = 46.6975,
                     lon: float = -1.9428) -> Practitioner:
        n = next(_seq)
        practitioner = Practitioner(
            rpps=rpps or f"{10000000000 + n:011d}", first_name=first_name, last_name=last_name or f"Medecin{n}",
            profession="gp", phone="+33251000000", address=f"{n} rue du Port", commune_insee=commune_insee,
            lat=lat, lon=lon, cpts=[cpts])
        return self._save(practitioner)

    def user(self, role: str, cpts: Cpts | None = None, practitioner: Practitioner | None = None,
             email: str | None = None) -> User:
        user = User(email=email or f"{role}{next(_seq)}@test.example", password_hash=accounts.hash_password(PASSWORD),
                    role=role, practitioner_id=practitioner.id if practitioner else None,
                    cpts=[cpts] if cpts else [])
        return self._save(user)

    def gp(self, cpts: Cpts, **kwargs) -> User:
        return self.user("gp", cpts, self.practitioner(cpts, **kwargs))

    def slot(self, practitioner: Practitioner, start: datetime | None = None, minutes: int = 15,
             status: str = "free", mode: str = "office") -> Slot:
        start = start or utcnow() + timedelta(hours=2)
        return self._save(Slot(practitioner_id=practitioner.id, start_at=start,
                               end_at=start + timedelta(minutes=minutes), status=status, mode=mode))

    def booking(self, slot: Slot, channel: str = "116117", status: str = "booked", **patient) -> Booking:
        person = Patient(first_name=patient.get("first_name", "Jeanne"), last_name=patient.get("last_name", "Durand"),
                         phone=patient.get("phone", "+33612345678"), has_treating_doctor="no")
        booking = Booking(slot=slot, patient=person, channel=channel, status=status, has_treating_doctor="no")
        if status == "booked":
            slot.status = "booked"
        return self._save(booking)

    def headers(self, user: User) -> dict:
        secret, _token = accounts.issue_token(user, timedelta(hours=1))
        return {"Authorization": f"Bearer {secret}"}

    @staticmethod
    def _save(obj):
        db.session.add(obj)
        db.session.commit()
        return obj
