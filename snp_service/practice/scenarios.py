"""The scripted callers: nine situations of a regulation shift, as data.

Each scenario arranges the trainee's freshly built practice database (``setup``: which slots are free, which
bookings exist), gives a caller card in French (what the caller says) and names its expected outcome, which
``check`` compares with what the trainee did in the practice database, with the reason in French. Callers and
patients are fictional. Scenario 6 plays a race: the practice space books the chosen slot "by another regulator"
just before the trainee's booking lands (``before_practice_request``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Callable

from flask import request, session as cookie_session
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..core.database import write_transaction
from ..core.extensions import db
from ..core.timeutil import PARIS, utcnow
from ..models import Booking, Commune, Patient, Practitioner, Slot, SlotRequest, User
from . import space

# A commune of no practice area (the caller of scenario 4): checked against the area when arranged.
OUTSIDE_COMMUNES = (("67482", "Strasbourg"), ("29019", "Brest"), ("06088", "Nice"))
WINDOW = timedelta(hours=48)


@dataclass(frozen=True)
class Scenario:
    number: int
    key: str
    title: str
    # "book" (the best slot the search proposes), "end" (the call ended without booking), "cancel", "move",
    # "book_after_race", "later" (the first of the later slots the search offers after its window)
    expected: str
    arrange: Callable[["Stage"], dict]  # the caller card's facts (and what the check needs)
    card: str  # what the caller says; {placeholders} from the facts
    goal: str  # the expected outcome, said to the trainee in the scorecard


def hhmm(instant: datetime) -> str:
    return instant.astimezone(PARIS).strftime("%Hh%M")


def day_word(instant: datetime) -> str:
    days = (instant.astimezone(PARIS).date() - utcnow().astimezone(PARIS).date()).days
    return {0: "aujourd'hui", 1: "demain", 2: "après-demain"}.get(days, instant.astimezone(PARIS).strftime("le %d/%m"))


class Stage:
    """The practice database being arranged for one scenario (a session of its own, committed by ``run_setup``)."""

    def __init__(self, session: Session, practitioner_ids: list[int]):
        self.s = session
        self.now = utcnow()
        ids = practitioner_ids or [None]
        self.practitioners = [session.get(Practitioner, i) for i in ids if i is not None]
        if not self.practitioners:
            raise LookupError("no practitioner in the area")
        self.doctor = self.practitioners[0]
        self.other = self.practitioners[min(1, len(self.practitioners) - 1)]

    def commune_name(self, insee: str | None) -> str:
        name = self.s.scalar(select(Commune.name).where(Commune.insee == insee).limit(1))
        return name or (insee or "")

    def future_free(self, practitioner: Practitioner | None = None, until: datetime | None = None):
        statement = select(Slot).where(Slot.status == "free", Slot.start_at > self.now).order_by(Slot.start_at)
        if practitioner is not None:
            statement = statement.where(Slot.practitioner_id == practitioner.id)
        if until is not None:
            statement = statement.where(Slot.start_at < until)
        return list(self.s.scalars(statement))

    def occupy(self, slots) -> None:
        """Book these slots for fictional patients (by the fictional colleague)."""
        for number, slot in enumerate(slots):
            last, first = space.FICTIONAL_PATIENTS[number % len(space.FICTIONAL_PATIENTS)]
            self.book(slot, first, last)

    def book(self, slot: Slot, first: str, last: str, phone: str = "+33600000000", by: int = space.OTHER_REGULATOR_ID,
             visible: bool = False, **patient) -> Booking:
        """A booking of a fictional patient; ``visible``: made for the practitioner's CPTS, so that it is listed
        in the console (the background ones show as booked, without a patient, as another CPTS's would)."""
        slot.status = "booked"
        cpts_id = self.s.get(Practitioner, slot.practitioner_id).cpts_ids[:1] if visible else []
        booking = Booking(slot=slot, patient=Patient(first_name=first, last_name=last, phone=phone, **patient),
                          booked_by_id=by, channel="116117", status="booked", cpts_id=cpts_id[0] if cpts_id else None,
                          has_treating_doctor=patient.get("has_treating_doctor", "unknown"),
                          created_at=self.now - timedelta(hours=2))
        self.s.add(booking)
        self.s.flush()
        return booking

    def free_slot_soon(self, practitioner: Practitioner, after: timedelta) -> Slot:
        """A free slot of ``practitioner`` at the first quarter-hour ``after`` from now (made free, or added)."""
        start = self.now + after
        start = start.replace(minute=(start.minute // 15) * 15, second=0, microsecond=0) + timedelta(minutes=15)
        slot = self.s.scalar(select(Slot).where(Slot.practitioner_id == practitioner.id, Slot.start_at == start))
        if slot is None:
            overlapping = self.s.scalars(select(Slot).where(Slot.practitioner_id == practitioner.id,
                                                           Slot.start_at < start + timedelta(minutes=15),
                                                           Slot.end_at > start))
            for other in overlapping:
                other.status = "withdrawn"
            slot = Slot(practitioner_id=practitioner.id, start_at=start, end_at=start + timedelta(minutes=15),
                        mode="office", status="free")
            self.s.add(slot)
        else:
            for booking in self.s.scalars(select(Booking).where(Booking.slot_id == slot.id)):
                self.s.delete(booking)
            slot.status, slot.mode = "free", "office"
        self.s.flush()
        return slot


# --- the nine callers -------------------------------------------------------------------------------------------


def _doctor_card(stage: Stage) -> dict:
    d = stage.doctor
    return {"doctor": f"Dr {d.last_name}", "doctor_id": d.id, "commune": stage.commune_name(d.commune_insee),
            "commune_insee": d.commune_insee, "rpps": d.rpps}


def _arrange_treating_has_slot(stage: Stage) -> dict:
    slot = stage.free_slot_soon(stage.doctor, timedelta(minutes=60))
    return _doctor_card(stage) | {"at": hhmm(slot.start_at), "search": {"commune": stage.doctor.commune_insee,
                                                                      "treating_rpps": stage.doctor.rpps}}


def _arrange_treating_has_none(stage: Stage) -> dict:
    stage.occupy(stage.future_free(stage.doctor))
    stage.free_slot_soon(stage.other, timedelta(minutes=90))
    return _doctor_card(stage) | {"search": {"commune": stage.doctor.commune_insee, "treating_rpps": stage.doctor.rpps}}


def _arrange_no_treating(stage: Stage) -> dict:
    stage.free_slot_soon(stage.other, timedelta(minutes=75))
    return {"commune": stage.commune_name(stage.other.commune_insee), "search": {"commune": stage.other.commune_insee}}


def _arrange_outside(stage: Stage) -> dict:
    area = set(stage.s.scalars(select(Commune.insee)))
    insee, name = next((c for c in OUTSIDE_COMMUNES if c[0] not in area), OUTSIDE_COMMUNES[0])
    return {"commune": name}


def _arrange_home_visit(stage: Stage) -> dict:
    visiting = stage.practitioners[-1]
    for slot in stage.future_free(visiting):
        slot.mode = "home_visit"
    stage.free_slot_soon(visiting, timedelta(hours=3)).mode = "home_visit"
    return {"commune": stage.commune_name(visiting.commune_insee),
            "search": {"commune": visiting.commune_insee, "mode": "home_visit"}}


def _arrange_race(stage: Stage) -> dict:
    facts = _arrange_treating_has_slot(stage)
    stage.free_slot_soon(stage.doctor, timedelta(minutes=120))
    return facts | {"race": True}


def _arrange_cancel(stage: Stage) -> dict:
    slot = stage.free_slot_soon(stage.doctor, timedelta(hours=24))
    booking = stage.book(slot, "Paul", "Girard", phone="+33611223344", visible=True)
    return _doctor_card(stage) | {"booking_id": booking.id, "at": hhmm(slot.start_at), "day": day_word(slot.start_at)}


def _arrange_move(stage: Stage) -> dict:
    slot = stage.free_slot_soon(stage.other, timedelta(minutes=45))
    booking = stage.book(slot, "Chantal", "Roux", phone="+33622334455", visible=True)
    not_before = slot.start_at + timedelta(hours=2)
    stage.free_slot_soon(stage.other, timedelta(hours=3))
    return {"doctor": f"Dr {stage.other.last_name}", "booking_id": booking.id, "at": hhmm(slot.start_at),
            "not_before": hhmm(not_before), "not_before_iso": not_before.isoformat()}


def _arrange_nothing_free(stage: Stage) -> dict:
    """Every slot of the agenda taken, and a few free ones on the day after the 48 h window: the search answers
    nothing in its window and offers them under "Prochains créneaux disponibles"."""
    stage.occupy(stage.future_free())
    gp = next((p for p in stage.practitioners if p.profession == "gp"), stage.doctor)
    day = (stage.now + WINDOW).astimezone(PARIS).date() + timedelta(days=1)
    for practitioner, first, count in ((gp, time(9), 4), (stage.other, time(14), 2)):
        start = datetime.combine(day, first, PARIS).astimezone(timezone.utc)
        for n in range(count):
            at = start + timedelta(minutes=15 * n)
            stage.s.add(Slot(practitioner_id=practitioner.id, start_at=at, end_at=at + timedelta(minutes=15),
                             mode="office", status="free"))
    stage.s.flush()
    return {"commune": stage.commune_name(gp.commune_insee), "later": "aucun créneau",
            "search": {"commune": gp.commune_insee, "profession": "gp"}}


SCENARIOS = (
    Scenario(1, "medecin-traitant-disponible", "Le médecin traitant a un créneau", "book",
             _arrange_treating_has_slot,
             "« Bonjour, je suis Mme Léa Morel, 34 ans, née le 12/03/1992, j'habite à {commune}. Mon médecin traitant "
             "est le {doctor}. J'ai de la fièvre depuis deux jours. » Téléphone : 06 12 34 56 78.",
             "le médecin traitant avait un créneau à {at} : il fallait le proposer en premier"),
    Scenario(2, "medecin-traitant-complet", "Le médecin traitant n'a plus de créneau", "book",
             _arrange_treating_has_none,
             "« Bonjour, Hugo Lambert, 51 ans, né le 02/07/1975, à {commune}. Mon médecin, le {doctor}, n'a plus de "
             "place. J'ai une douleur au dos depuis ce matin. » Téléphone : 06 23 45 67 89.",
             "le médecin traitant n'avait rien dans les 48 h : il fallait réserver le premier créneau proposé, "
             "le plus tôt et le plus proche"),
    Scenario(3, "sans-medecin-traitant", "Pas de médecin traitant", "book", _arrange_no_treating,
             "« Je suis Mme Inès Fabre, 27 ans, née le 20/01/1999, à {commune}. Je n'ai pas de médecin traitant. "
             "J'ai une otite, je crois. » Téléphone : 06 34 56 78 90.",
             "sans médecin traitant, le premier créneau proposé autour de sa commune était le bon"),
    Scenario(4, "hors-zone", "Un appelant hors du territoire", "end", _arrange_outside,
             "« Bonjour, M. Karim Benali, 40 ans. J'appelle de {commune}, je suis chez moi. J'ai mal à la gorge. »",
             "{commune} est hors du territoire : ne rien réserver, réorienter l'appelant vers la régulation de son "
             "département (« Terminer sans rendez-vous »)"),
    Scenario(5, "visite-a-domicile", "Une visite à domicile", "book", _arrange_home_visit,
             "« J'appelle pour ma mère, Mme Odette Blanc, 88 ans, née le 05/05/1938, à {commune}. Elle ne peut pas se "
             "déplacer, elle tousse beaucoup. » Téléphone : 06 45 67 89 01. Pas de médecin traitant joignable.",
             "la patiente ne se déplace pas : il fallait choisir le mode « Visite » et réserver la première visite"),
    Scenario(6, "creneau-pris", "Un autre régulateur prend le créneau", "book_after_race", _arrange_race,
             "« Bonjour, M. Yves Carré, 62 ans, né le 14/09/1964, à {commune}. Mon médecin traitant est le {doctor}. "
             "Je me suis coupé la main, il faut des points. » Téléphone : 06 56 78 90 12.",
             "le créneau choisi a été pris par un autre régulateur : il fallait réserver un des créneaux proposés "
             "aussitôt"),
    Scenario(7, "annulation", "Un patient rappelle pour annuler", "cancel", _arrange_cancel,
             "« Bonjour, M. Paul Girard. J'ai rendez-vous {day} à {at} avec le {doctor}, je ne pourrai pas venir : "
             "annulez-le, s'il vous plaît. »",
             "il fallait annuler le rendez-vous de M. Girard {day} à {at}, à la demande du patient"),
    Scenario(8, "deplacement", "Déplacer un rendez-vous plus tard", "move", _arrange_move,
             "« Mme Chantal Roux. J'ai rendez-vous à {at} avec le {doctor} mais je ne peux pas être là avant "
             "{not_before}. Pouvez-vous me donner un créneau plus tard ? »",
             "il fallait déplacer le rendez-vous de Mme Roux sur un créneau à {not_before} ou après"),
    Scenario(9, "rien-de-libre", "Rien de libre dans les 48 h", "later", _arrange_nothing_free,
             "« Bonjour, Mme Nadia Lopez, 45 ans, à {commune}. J'ai une éruption sur les bras depuis hier. Ce n'est "
             "pas très urgent : je peux attendre quelques jours s'il le faut. » Téléphone : 06 67 89 01 23.",
             "rien de libre dans les 48 h, mais la recherche proposait {later} : il fallait réserver le premier des "
             "« Prochains créneaux disponibles », un rendez-vous certain tout de suite (« Demander un créneau » "
             "sert quand il n'y en a aucun, même plus tard)"),
)
BY_NUMBER = {s.number: s for s in SCENARIOS}


# --- running one ------------------------------------------------------------------------------------------------


def arrange(scenario: Scenario, engine, practitioner_ids: list[int], scope: set[int] | None) -> dict:
    """Arrange the practice database for ``scenario``; returns its state (kept in the page session)."""
    with Session(engine, expire_on_commit=False) as session:
        stage = Stage(session, practitioner_ids)
        facts = scenario.arrange(stage)
        session.commit()
        baseline = session.scalar(select(func.max(Booking.id))) or 0
    state = {"scenario": scenario.number, "facts": {k: v for k, v in facts.items() if k != "search"},
             "baseline": baseline, "race": bool(facts.get("race"))}
    if "search" in facts:  # the best slot, as the real search orders it, on the practice database (bound)
        from ..slots import search

        if scenario.expected == "later":  # the first of the later slots, as the console lists them
            later = search.search_with_later(scope, dict(facts["search"])).get("later") or []
            if later:
                start = datetime.fromisoformat(later[0]["slot"]["start"])
                state["facts"] |= {"later_slot": later[0]["slot"]["id"], "later": (
                    f"le Dr {later[0]['practitioner']['last_name']} {day_word(start)} à {hhmm(start)}")}
            return state
        best = search.search_free_slots(scope, dict(facts["search"]))
        if best:
            state["facts"]["best_slot"] = best[0]["slot"]["id"]
            state["facts"]["best_at"] = hhmm(datetime.fromisoformat(best[0]["slot"]["start"]))
    return state


def card(state: dict) -> dict:
    scenario = BY_NUMBER[state["scenario"]]
    return {"number": scenario.number, "title": scenario.title, "text": scenario.card.format(**state["facts"]),
            "goal": scenario.goal.format(**state["facts"])}


SKIPPED = "Appel laissé sans suite : ni rendez-vous ni « Terminer sans rendez-vous » avant l'appelant suivant."


def with_skipped(results: list[dict], state: dict | None) -> list[dict]:
    """The run's results, with the scenario in progress (``state``) counted when the trainee leaves it for another
    without ending the call (no scorecard was shown: its outcome is checked now, on its practice database, not
    ended)."""
    if not state or not state.get("scenario") or state.get("done"):
        return results
    ok, _why = check(state, ended=False)
    scenario = BY_NUMBER[state["scenario"]]
    # A short reason: the results ride in the page session's cookie.
    skipped = {"number": scenario.number, "ok": ok, "skipped": True,
               "why": SKIPPED if not ok else "Résultat attendu, mais le bilan n'a pas été affiché."}
    return [r for r in results if r["number"] != scenario.number] + [skipped]


def check(state: dict, ended: bool = False) -> tuple[bool, str]:
    """Whether what the trainee did in the practice database is the expected outcome, and why (French).

    ``ended``: the trainee ended the call without booking ("Terminer sans rendez-vous", F8, or the console's
    "Nouvel appel"), as reported with the scorecard's figures; a scenario left for another without it is not.
    """
    scenario = BY_NUMBER[state["scenario"]]
    facts = state["facts"]
    goal = scenario.goal.format(**facts)
    new = list(db.session.scalars(select(Booking).where(Booking.id > state["baseline"],
                                                        Booking.booked_by_id != space.OTHER_REGULATOR_ID)
                                  .order_by(Booking.id)))
    booked = [b for b in new if b.status == "booked"]
    if scenario.expected == "end":
        if booked:
            return False, f"Un rendez-vous a été réservé alors que {goal}."
        if not ended:
            return False, f"L'appel n'a pas été terminé : {goal}."
        return True, f"Résultat attendu : {goal}."
    if scenario.expected == "later":
        return _check_later(facts, goal, booked)
    if scenario.expected == "cancel":
        target = db.session.get(Booking, facts["booking_id"])
        if target.status == "cancelled" and target.cancelled_by == "patient" and not booked:
            return True, f"Résultat attendu : {goal}."
        if target.status == "cancelled":
            return booked == [], f"Annulé, mais {goal}."
        return False, f"Le rendez-vous est toujours actif : {goal}."
    if scenario.expected == "move":
        old = db.session.get(Booking, facts["booking_id"])
        moved = [b for b in booked if b.patient_id == old.patient_id]
        if old.status == "cancelled" and moved:
            later = moved[-1].slot.start_at >= datetime.fromisoformat(facts["not_before_iso"])
            return later, (f"Résultat attendu : {goal}." if later else
                           f"Déplacé à {hhmm(moved[-1].slot.start_at)}, trop tôt : {goal}.")
        return False, f"Le rendez-vous n'a pas été déplacé : {goal}."
    if not booked:
        return False, f"Aucun rendez-vous réservé : {goal}."
    chosen = booked[-1]
    if scenario.expected == "book_after_race":
        return True, f"Résultat attendu : {goal} (réservé à {hhmm(chosen.slot.start_at)})."
    if facts.get("best_slot") is None or chosen.slot_id == facts["best_slot"]:
        return True, f"Résultat attendu : {goal} (réservé à {hhmm(chosen.slot.start_at)})."
    return False, f"Réservé à {hhmm(chosen.slot.start_at)} avec le {_doctor(chosen)} ; or {goal} ({facts.get('best_at')})."


def _check_later(facts: dict, goal: str, booked: list[Booking]) -> tuple[bool, str]:
    """Scenario 9: the first later slot booked is right; a slot request is right only when no later slot existed
    (it waits for a practitioner to accept, the later slot was certain at once)."""
    later = facts.get("later_slot")
    if booked:
        chosen = booked[-1]
        if later is not None and chosen.slot_id == later:
            return True, f"Résultat attendu : {goal}."
        return False, (f"Réservé {day_word(chosen.slot.start_at)} à {hhmm(chosen.slot.start_at)} avec le "
                       f"{_doctor(chosen)} ; or {goal}.")
    requested = db.session.scalar(select(func.count()).select_from(SlotRequest)
                                  .where(SlotRequest.requested_by_id != space.OTHER_REGULATOR_ID))
    if requested:
        if later is None:
            return True, ("Résultat attendu : aucun créneau libre, même après les 48 h : la demande de créneau aux "
                          "professionnels proches était la bonne réponse.")
        return False, (f"Une demande de créneau a été envoyée, qui attend qu'un professionnel l'accepte ; or {goal}.")
    if later is None:
        return False, ("Ni rendez-vous ni demande : aucun créneau libre, même après les 48 h, il fallait « Demander "
                       "un créneau » aux professionnels proches.")
    return False, f"Aucun rendez-vous réservé : {goal}."


def _doctor(booking: Booking) -> str:
    practitioner = db.session.get(Practitioner, booking.slot.practitioner_id)
    return f"Dr {practitioner.last_name}"


def before_practice_request(user: User, state: dict) -> None:
    """Scenario 6: the trainee's booking request finds its slot just taken by a colleague."""
    if not state.get("race") or request.method != "POST" or request.path != "/api/v1/bookings":
        return
    body = request.get_json(silent=True) or {}
    slot_id = body.get("slot_id") if isinstance(body, dict) else None
    if not isinstance(slot_id, int):
        return
    with write_transaction():
        slot = db.session.get(Slot, slot_id)
        if slot is not None and slot.status == "free":
            slot.status = "booked"
            db.session.add(Booking(slot=slot, patient=Patient(first_name="Marc", last_name="Perrin", phone="+33600000000",
                                                              has_treating_doctor="unknown"),
                                   booked_by_id=space.OTHER_REGULATOR_ID, channel="116117", status="booked",
                                   cpts_id=(slot.practitioner.cpts_ids or [None])[0], has_treating_doctor="unknown"))
    state["race"] = False
    cookie_session[space.SESSION_KEY] = state
