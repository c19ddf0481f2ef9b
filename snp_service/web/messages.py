"""The coordinator's SMS page: last messages with their status, and "renvoyer" for failed ones."""
from flask import Blueprint, flash, redirect, render_template, url_for

from ..models import RESENDABLE_STATUSES
from ..notify import outbox
from ..notify.messages import mask_phone
from ..policy import require_roles, visible_cpts_ids
from ..timeutil import to_paris

bp = Blueprint("messages", __name__, url_prefix="/coordination/sms")

KIND_LABELS = {
    "patient_confirmation": "Confirmation", "patient_reminder": "Rappel", "patient_cancellation": "Annulation",
    "patient_move": "Déplacement", "gp_new_booking": "Médecin : réservation",
    "gp_cancellation": "Médecin : annulation", "gp_move": "Médecin : déplacement",
}
STATUS_LABELS = {
    "pending": "En attente", "sending": "Envoi en cours", "queued": "Transmis", "sent": "Envoyé",
    "delivered": "Reçu", "undelivered": "Non reçu", "failed": "Échec", "skipped": "Sans objet",
}


@bp.get("")
@require_roles("coordinator", "admin")
def home(user):
    return render_template("messages/list.html", messages=outbox.recent_messages(visible_cpts_ids(user)),
                           kinds=KIND_LABELS, statuses=STATUS_LABELS, mask=mask_phone,
                           resendable=RESENDABLE_STATUSES, local_time=_local_time)


@bp.post("/<int:message_id>/resend")
@require_roles("coordinator", "admin")
def resend(message_id: int, user):
    outbox.resend(user, message_id, visible_cpts_ids(user))
    flash("Message remis dans la file d'envoi.", "success")
    return redirect(url_for("messages.home"))


def _local_time(instant) -> str:
    return to_paris(instant).strftime("%d/%m %H:%M")
