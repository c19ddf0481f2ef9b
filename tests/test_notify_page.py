"""The coordinator's SMS page: masked numbers, statuses, no content, "renvoyer" for failed messages."""
from __future__ import annotations


from sqlalchemy import select

from snp_service.core.database import write_transaction
from snp_service.core.extensions import db
from snp_service.models import AuditEvent, Booking, OutboxMessage, Patient
from snp_service.notify import events
from snp_service.notify.backends import memory_store
from snp_service.notify.sender import send_pending

from .factories import sign_in_form


def book(slot, phone="+33612345678") -> OutboxMessage:
    with write_transaction():
        booking = Booking(slot=slot, patient=Patient(first_name="Jeanne", last_name="Durand", phone=phone),
                          channel="116117", cpts_id=slot.practitioner.cpts_ids[0])
        db.session.add(booking)
        db.session.flush()
        events.booking_created(booking, True)
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.booking_id == booking.id))


def failed(message: OutboxMessage) -> None:
    with write_transaction():
        db.session.get(OutboxMessage, message.id).status = "failed"


def test_coordinator_sees_own_cpts_messages_masked_without_content(world, client):
    cpts, other = world.cpts(), world.cpts()
    mine = book(world.slot(world.practitioner(cpts)))
    book(world.slot(world.practitioner(other)), phone="+33699999911")
    send_pending()
    sign_in_form(client, world.user("coordinator", cpts))

    page = client.get("/coordination/sms").get_data(as_text=True)

    assert "+33 6 •• •• •• 78" in page and "Confirmation" in page and "Transmis" in page
    assert "+33 6 •• •• •• 11" not in page  # another CPTS
    assert "12345678" not in page and mine.body not in page and "Durand" not in page
    assert "Renvoyer" not in page


def test_failed_message_can_be_sent_again(world, client, app):
    cpts = world.cpts()
    message = book(world.slot(world.practitioner(cpts)))
    failed(message)
    coordinator = world.user("coordinator", cpts)
    csrf = sign_in_form(client, coordinator)
    assert "Échec" in client.get("/coordination/sms").get_data(as_text=True)

    answer = client.post(f"/coordination/sms/{message.id}/resend", data={"csrf_token": csrf}, follow_redirects=True)

    assert "Message remis dans la file" in answer.get_data(as_text=True)
    assert send_pending()["sent"] == 1
    assert [sms.outbox_id for sms in memory_store(app)["sent"]] == [message.id]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.resend"))
    assert (event.actor_id, event.before["status"]) == (coordinator.id, "failed")


def test_resend_refused_for_a_delivered_message_or_another_cpts(world, client):
    cpts, other = world.cpts(), world.cpts()
    queued = book(world.slot(world.practitioner(cpts)))
    elsewhere = book(world.slot(world.practitioner(other)))
    failed(elsewhere)
    send_pending()
    csrf = sign_in_form(client, world.user("coordinator", cpts))

    assert client.post(f"/coordination/sms/{queued.id}/resend", data={"csrf_token": csrf}).status_code == 409
    assert client.post(f"/coordination/sms/{elsewhere.id}/resend", data={"csrf_token": csrf}).status_code == 404


def test_page_is_for_coordinators_only(world, client):
    cpts = world.cpts()
    sign_in_form(client, world.user("regulator", cpts))

    assert client.get("/coordination/sms").status_code == 403
