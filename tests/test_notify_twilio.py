"""The twilio backend against a fake Twilio on 127.0.0.1: retries, outages, crashes, status callbacks."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from snp_service.core.database import write_transaction
from snp_service.core.extensions import db
from snp_service.models import Booking, OutboxMessage, Patient
from snp_service.notify import events, sender
from snp_service.notify.sender import send_pending

from .fake_twilio import FakeTwilio

START = datetime(2030, 7, 15, 12, 30, tzinfo=timezone.utc)
PUBLIC_URL = "https://snp.cpts.example"


@pytest.fixture
def twilio(app):
    fake = FakeTwilio().start()
    app.config.update(fake.config(), PUBLIC_URL=PUBLIC_URL, SMS_RETRY_BASE_SECONDS=30)
    yield fake
    fake.stop()


@pytest.fixture
def gp(world):
    # No mobile for the GP here: each booking then makes exactly one SMS, the patient's.
    practitioner = world.practitioner(world.cpts(), last_name="Martin")
    practitioner.phone = None
    db.session.commit()
    return practitioner


def book(slot, phone="+33612345678") -> Booking:
    with write_transaction():
        booking = Booking(slot=slot, patient=Patient(first_name="Jeanne", last_name="Durand", phone=phone),
                          channel="116117")
        slot.status = "booked"
        db.session.add(booking)
        db.session.flush()
        events.booking_created(booking, True)
    return booking


def message_of(booking) -> OutboxMessage:
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.booking_id == booking.id)
                             .execution_options(populate_existing=True))


def outbox_ids(fake) -> list[int]:
    return sorted(int(parse_qs(urlsplit(m["status_callback"]).query)["outbox_id"][0]) for m in fake.messages)


def test_booking_sends_one_confirmation_through_twilio(world, gp, twilio):
    booking = book(world.slot(gp, start=START))

    assert send_pending() == {"sent": 1, "failed": 0, "retried": 0, "skipped": 0, "recovered": 0}

    [sms] = twilio.messages
    assert (sms["to"], sms["from"]) == ("+33612345678", "+33700000000")
    text, secret_and_reference = sms["body"].rsplit("/", 1)
    assert text == f"RDV le lun. 15/07 à 14h30 avec Dr Alex Martin, {gp.address}. Annuler : https://snp.cpts.example/r"
    assert secret_and_reference.endswith(f" Réf. {message_of(booking).id}")
    assert sms["status_callback"] == f"{PUBLIC_URL}/notify/twilio/status?outbox_id={message_of(booking).id}"
    message = message_of(booking)
    assert (message.status, message.provider_sid, message.attempts) == ("queued", sms["sid"], 1)


def test_messaging_service_sid_instead_of_a_from_number(world, gp, twilio, app):
    app.config.update(TWILIO_FROM=None, TWILIO_MESSAGING_SERVICE_SID="MG" + "1" * 32)
    book(world.slot(gp, start=START))

    assert send_pending()["sent"] == 1
    assert twilio.messages[0]["messaging_service_sid"] == "MG" + "1" * 32


def test_500_then_201_is_retried_with_backoff_and_delivered_once(world, gp, twilio):
    booking = book(world.slot(gp, start=START))
    twilio.fail_next(1, status=500)
    now = datetime.now(timezone.utc)

    assert send_pending(now=now)["retried"] == 1
    message = message_of(booking)
    assert (message.status, message.attempts, message.last_error) == ("pending", 1, "http_500")
    assert message.next_attempt_at == now + timedelta(seconds=30)
    assert send_pending(now=now + timedelta(seconds=29))["sent"] == 0  # not before the backoff

    assert send_pending(now=now + timedelta(seconds=30))["sent"] == 1
    assert len(twilio.messages) == 1 and twilio.requests == 2
    assert message_of(booking).status == "queued"


def test_backoff_doubles_then_gives_up_after_max_attempts(world, gp, twilio, app):
    app.config["SMS_MAX_ATTEMPTS"] = 3
    booking = book(world.slot(gp, start=START))
    twilio.fail_next(3, status=429)
    now = datetime.now(timezone.utc)

    send_pending(now=now)
    assert message_of(booking).next_attempt_at == now + timedelta(seconds=30)
    send_pending(now=now + timedelta(seconds=30))
    assert message_of(booking).next_attempt_at == now + timedelta(seconds=90)
    assert send_pending(now=now + timedelta(seconds=90))["failed"] == 1

    message = message_of(booking)
    assert (message.status, message.attempts, message.last_error) == ("failed", 3, "http_429")
    assert send_pending(now=now + timedelta(days=1))["sent"] == 0 and twilio.messages == []


def test_invalid_number_fails_at_once_without_retry(world, gp, twilio):
    booking = book(world.slot(gp, start=START))
    twilio.fail_next(1, status=400)

    assert send_pending()["failed"] == 1
    message = message_of(booking)
    assert (message.status, message.attempts, message.last_error) == ("failed", 1, "twilio_21211")
    assert send_pending(now=datetime.now(timezone.utc) + timedelta(hours=2))["sent"] == 0
    assert twilio.requests == 1


def test_twilio_down_during_100_bookings_then_back_sends_each_once(world, gp, twilio):
    twilio.down = True
    base = START
    bookings = [book(world.slot(gp, start=base + timedelta(minutes=15 * i)), phone=f"+336{10000000 + i}")
                for i in range(100)]
    now = datetime.now(timezone.utc)
    for minute in range(5):  # the job keeps running during the outage: one probe per run
        assert send_pending(now=now + timedelta(minutes=minute))["sent"] == 0
    assert twilio.messages == []

    twilio.down = False
    counts = send_pending(now=now + timedelta(hours=2))
    counts_again = send_pending(now=now + timedelta(hours=3))

    assert counts["sent"] == 100 and counts_again["sent"] == 0
    assert outbox_ids(twilio) == sorted(message_of(b).id for b in bookings)  # none twice, none lost
    assert len({m["to"] for m in twilio.messages}) == 100
    assert {message_of(b).status for b in bookings} == {"queued"}


def test_crash_after_twilio_accepted_is_recorded_not_resent(world, gp, twilio, app, monkeypatch):
    booking = book(world.slot(gp, start=START))
    now = crash_in(monkeypatch, sender._finish)
    assert message_of(booking).status == "sending" and len(twilio.messages) == 1

    assert send_pending(now=now + timedelta(seconds=60))["sent"] == 0  # lease still running
    counts = send_pending(now=now + timedelta(seconds=app.config["SMS_LEASE_SECONDS"]))

    assert counts["recovered"] == 1 and len(twilio.messages) == 1 and twilio.requests == 1
    assert (message_of(booking).status, message_of(booking).provider_sid) == ("queued", twilio.messages[0]["sid"])


def test_crash_after_twilio_accepted_then_25_more_to_the_number_still_one_sms(world, gp, twilio, app, monkeypatch):
    """Issue 28, finding 10: the look-up read only the last 20 messages to the number, so a message
    accepted just before a crash, followed by more than 20 others to the same patient, was sent again
    when its lease expired. It is now found by its own reference, through every page of the list."""
    twilio.max_page_size = 7  # Twilio's pages hold up to 1,000: smaller here, so the look-up must page
    stuck = book(world.slot(gp, start=START))
    now = crash_in(monkeypatch, sender._finish)
    later = [book(world.slot(gp, start=START + timedelta(hours=n + 1))) for n in range(25)]
    assert send_pending(now=datetime.now(timezone.utc))["sent"] == 25  # the stuck one's lease still runs
    assert len(twilio.messages) == 26 and {m["to"] for m in twilio.messages} == {"+33612345678"}

    counts = send_pending(now=now + timedelta(seconds=app.config["SMS_LEASE_SECONDS"]))

    assert counts["recovered"] == 1 and counts["sent"] == 0
    assert len(twilio.messages) == 26 and outbox_ids(twilio) == sorted(message_of(b).id for b in [stuck, *later])
    assert (message_of(stuck).status, message_of(stuck).provider_sid) == ("queued", twilio.messages[0]["sid"])
    assert twilio.list_requests >= 4  # 26 messages in pages of 7


def test_the_same_reference_outside_the_claim_window_is_not_taken_for_the_message(world, gp, twilio, app,
                                                                                   monkeypatch):
    """A message ending with the same reference an hour before the claim (a database restored from a backup
    gives out ids again) is not this row's: the row was never sent, so it is sent once now."""
    booking = book(world.slot(gp, start=START))
    now = crash_in(monkeypatch, sender._deliver)
    old = twilio.add_message("+33612345678", f"Un ancien message. Réf. {message_of(booking).id}",
                             sent_at=now - timedelta(hours=1))

    counts = send_pending(now=now + timedelta(seconds=app.config["SMS_LEASE_SECONDS"]))

    assert (counts["recovered"], counts["sent"]) == (0, 1)
    assert [m["sid"] for m in twilio.messages if m["sid"] != old["sid"]] == [message_of(booking).provider_sid]


def test_a_list_page_that_fails_leaves_the_message_claimed_not_resent(world, gp, twilio, app, monkeypatch):
    booking = book(world.slot(gp, start=START))
    now = crash_in(monkeypatch, sender._finish)
    twilio.max_page_size = 1
    # Clearly newer than the stuck one (Twilio dates to the second, and the stuck one may fall in the second
    # after 'now'): the stuck one is on page 2.
    twilio.add_message("+33612345678", "Un autre message.", sent_at=now + timedelta(seconds=30))
    monkeypatch.setattr(twilio, "_list", _second_page_fails(twilio._list))

    counts = send_pending(now=now + timedelta(seconds=app.config["SMS_LEASE_SECONDS"]))

    assert counts["retried"] == 1 and len(twilio.messages) == 2
    assert message_of(booking).status == "sending"  # checked again when its renewed lease expires
    monkeypatch.undo()
    later = now + timedelta(seconds=2 * app.config["SMS_LEASE_SECONDS"])
    assert send_pending(now=later)["recovered"] == 1 and len(twilio.messages) == 2


def _second_page_fails(list_page):
    def failing(path, query):
        if "PageToken" in query:
            return 500, {"code": 20500, "message": "Internal Server Error", "status": 500}
        return list_page(path, query)
    return failing


def test_crash_before_twilio_got_it_is_sent_after_the_lease(world, gp, twilio, app, monkeypatch):
    booking = book(world.slot(gp, start=START))
    now = crash_in(monkeypatch, sender._deliver)

    counts = send_pending(now=now + timedelta(seconds=app.config["SMS_LEASE_SECONDS"]))

    assert counts["sent"] == 1 and len(twilio.messages) == 1
    assert (message_of(booking).status, message_of(booking).attempts) == ("queued", 2)


def _crash(*args, **kwargs):
    raise SystemExit("worker killed")


def crash_in(monkeypatch, step) -> datetime:
    """Run the sender until the process dies in ``step`` (``sender._deliver``: before Twilio got the message;
    ``sender._finish``: after it accepted it, before its SID was recorded); returns the claim's instant."""
    monkeypatch.setattr(sender, step.__name__, _crash)
    now = datetime.now(timezone.utc)
    with pytest.raises(SystemExit):
        send_pending(now=now)
    monkeypatch.undo()
    return now


def sign(url: str, form: dict, token: str) -> dict:
    return {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, form)}


def test_forged_or_unsigned_status_callback_is_refused(world, gp, twilio, client):
    booking = book(world.slot(gp, start=START))
    send_pending()
    sid = message_of(booking).provider_sid
    path = f"/notify/twilio/status?outbox_id={message_of(booking).id}"
    form = {"MessageSid": sid, "MessageStatus": "delivered"}

    assert client.post(path, data=form).status_code == 403
    assert client.post(path, data=form, headers=sign(PUBLIC_URL + path, form, "wrong-token")).status_code == 403
    # Signed for the internal URL rather than the public one a proxy forwards from.
    assert client.post(path, data=form, headers=sign("http://localhost" + path, form, twilio.auth_token)).status_code == 403
    assert message_of(booking).status == "queued"


def test_signed_status_callbacks_move_the_message_forward_never_back(world, gp, twilio, client):
    booking = book(world.slot(gp, start=START))
    send_pending()
    sid = message_of(booking).provider_sid
    path = f"/notify/twilio/status?outbox_id={message_of(booking).id}"

    for status in ("sent", "delivered", "sent"):
        form = {"MessageSid": sid, "MessageStatus": status, "AccountSid": twilio.account_sid}
        assert client.post(path, data=form, headers=sign(PUBLIC_URL + path, form, twilio.auth_token)).status_code == 204

    assert message_of(booking).status == "delivered"


def test_undelivered_callback_marks_the_message_for_the_coordinator(world, gp, twilio, client):
    booking = book(world.slot(gp, start=START))
    send_pending()
    path = f"/notify/twilio/status?outbox_id={message_of(booking).id}"
    form = {"MessageSid": message_of(booking).provider_sid, "MessageStatus": "undelivered", "ErrorCode": "30003"}

    client.post(path, data=form, headers=sign(PUBLIC_URL + path, form, twilio.auth_token))

    assert (message_of(booking).status, message_of(booking).last_error) == ("undelivered", "twilio_30003")


def test_after_commit_sender_delivers_without_the_caller_sending(world, gp, twilio, app):
    app.config["SMS_SEND_AFTER_COMMIT"] = True
    booking = book(world.slot(gp, start=START))

    deadline = time.monotonic() + 10
    while not twilio.messages and time.monotonic() < deadline:
        time.sleep(0.05)

    assert len(twilio.messages) == 1
    assert outbox_ids(twilio) == [message_of(booking).id]
