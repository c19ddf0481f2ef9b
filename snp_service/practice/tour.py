"""The first-sign-in tour: 3 to 5 short steps on the role's home page, pointing at its real elements.

Shown until the account finishes or skips it (``tour_seen``, in the real database, through a session of its own:
the practice space may be binding the request elsewhere), replayable from "Aide".
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from ..core.extensions import db
from ..core.timeutil import utcnow
from ..models import Role, TourSeen, User

# Per role: the home page's endpoint and its steps (a CSS selector of a real element, what to say about it).
TOURS = {
    Role.REGULATOR: ("regulation.home", (
        ("#patient-form", "Saisissez l'appel ici : nom, prénom, téléphone, commune, médecin traitant. "
                          "Entrée dans un champ lance la recherche."),
        ("#results-title", "Les créneaux libres s'affichent ici, le médecin traitant d'abord. ↑ ↓ pour choisir, "
                           "Entrée pour réserver. Rien dans les 48 h : les « Prochains créneaux disponibles » "
                           "suivent, ou « Demander un créneau »."),
        ("#today-title", "Les rendez-vous d'aujourd'hui et de demain : Tab jusqu'à « Déplacer » ou « Annuler »."),
        ("a[href$='/regulation/entrainement']", "Avant votre premier vrai appel : neuf appels fictifs à traiter dans "
                                                "l'espace d'entraînement. Rien n'y est réel."),
        ("#help-button", "« Aide » ou la touche ? : tous les raccourcis clavier, et cette visite à revoir."),
    )),
    Role.GP: ("gp.home", (
        ("#today-bookings", "Vos rendez-vous SNP du jour, pris par la régulation."),
        ("#open-title", "Ouvrez des créneaux : un bloc (une plage découpée en créneaux) ou une série qui se répète."),
        ("#import-title", "Ou importez votre agenda (.ics) : ses plages libres deviennent des créneaux."),
        ("#feed-title", "Abonnez votre agenda (iPhone, Android, Outlook) à vos créneaux SNP."),
    )),
    Role.COORDINATOR: ("coordination.home", (
        ("#this-week", "Le taux de remplissage de la semaine, en direct."),
        ("#supplements-title", "Le relevé des majorations SNP, par praticien, en CSV et Excel."),
        ("#practice-title", "Qui s'est entraîné parmi vos régulateurs : scénarios faits, dernier entraînement."),
        ("#seasons", "Les saisons : leurs rapports et leur comparaison."),
    )),
}
TOURS[Role.ADMIN] = TOURS[Role.COORDINATOR]


def steps_for(user: User) -> tuple[str, tuple] | None:
    return TOURS.get(user.role)


def pending(user: User) -> bool:
    with Session(db.engine) as session:
        return session.get(TourSeen, user.id) is None


def mark_seen(user: User) -> None:
    """The tour was finished or skipped: not shown again (it stays replayable). Idempotent."""
    with Session(db.engine) as session, session.begin():
        if session.get(TourSeen, user.id) is None:
            session.add(TourSeen(user_id=user.id, at=utcnow()))
