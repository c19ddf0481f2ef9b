"""The coordinator's SMS page: last messages with their status, "renvoyer" for failed ones; below, the
appointments sent to the SAS platform and their state."""
from flask import Blueprint, flash, redirect, render_template, url_for

from ..core.timeutil import to_paris
from ..models import RESENDABLE_STATUSES
from ..notify import outbox
from ..notify.messages import mask_phone
from ..policy import COORDINATION, require_roles, visible_cpts_ids
from ..sas import outbox as sas_outbox

bp = Blueprint("messages", __name__, url_prefix="/coordination/sms")

KIND_LABELS = {
    "patient_confirmation": "Confirmation", "patient_reminder": "Rappel", "patient_cancellation": "Annulation",
    "patient_move": "Déplacement", "gp_new_booking": "Médecin : réservation",
    "gp_cancellation": "Médecin : annulation", "gp_move": "Médecin : déplacement",
}
SAS_EVENT_LABELS = {"booked": "Réservation", "cancelled": "Annulation", "honored": "Patient vu",
                    "no_show": "Patient absent", "moved": "Déplacement"}
SAS_STATUS_LABELS = {"pending": "En attente", "sending": "Envoi en cours", "sent": "Transmis", "failed": "Échec"}
STATUS_LABELS = {
    "pending": "En attente", "sending": "Envoi en cours", "queued": "Transmis", "sent": "Envoyé",
    "delivered": "Reçu", "undelivered": "Non reçu", "failed": "Échec", "skipped": "Sans objet",
}


@bp.get("")
@require_roles(COORDINATION)
def home(user):
    scope = visible_cpts_ids(user)
    return render_template("messages/list.html", messages=outbox.recent_messages(scope),
                           kinds=KIND_LABELS, statuses=STATUS_LABELS, mask=mask_phone,
                           resendable=RESENDABLE_STATUSES, local_time=_local_time,
                           sas_pushes=sas_outbox.recent_pushes(scope), sas_events=SAS_EVENT_LABELS,
                           sas_statuses=SAS_STATUS_LABELS)


@bp.post("/<int:message_id>/resend")
@require_roles(COORDINATION)
def resend(message_id: int, user):
    outbox.resend(user, message_id, visible_cpts_ids(user))
    flash("Message remis dans la file d'envoi.", "success")
    return redirect(url_for("messages.home"))


def _local_time(instant) -> str:
    return to_paris(instant).strftime("%d/%m %H:%M")
