"""The coordinator's SMS page: last messages with their status, "renvoyer" for failed ones; below, the
appointments sent to the SAS platform and their state."""
from flask import Blueprint, flash, redirect, render_template, url_for

from ..core.timeutil import to_paris
from .. import formatting
from ..models import RESENDABLE_STATUSES
from ..notify import outbox
from ..notify.messages import mask_phone
from ..policy import COORDINATION, require_roles, visible_cpts_ids
from ..sas import outbox as sas_outbox

bp = Blueprint("messages", __name__, url_prefix="/coordination/sms")

@bp.get("")
@require_roles(COORDINATION)
def home(user):
    scope = visible_cpts_ids(user)
    return render_template("messages/list.html", messages=outbox.recent_messages(scope),
                           kinds=formatting.MESSAGE_KIND_LABELS, statuses=formatting.MESSAGE_STATUS_LABELS, mask=mask_phone,
                           resendable=RESENDABLE_STATUSES, local_time=_local_time,
                           sas_pushes=sas_outbox.recent_pushes(scope), sas_events=formatting.SAS_EVENT_LABELS,
                           sas_statuses=formatting.SAS_PUSH_STATUS_LABELS)


@bp.post("/<int:message_id>/resend")
@require_roles(COORDINATION)
def resend(message_id: int, user):
    outbox.resend(user, message_id, visible_cpts_ids(user))
    flash("Message remis dans la file d'envoi.", "success")
    return redirect(url_for("messages.home"))


def _local_time(instant) -> str:
    return to_paris(instant).strftime("%d/%m %H:%M")
