"""Production keeps patients' phone numbers out of its logs (issue 15, item 9).

The ``console`` SMS backend prints every SMS with its number: production refuses to start with it.
Then a booking's SMS, sent through Twilio (the local fake) and looked up again before a resend,
must leave no number in any log record nor on the standard output.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

import pytest

from config import ConfigurationError
from snp_service import create_app
from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.notify.backends import OutgoingSms, get_backend
from snp_service.notify.sender import send_pending

from .fake_twilio import FakeTwilio
from .factories import World

PHONE = "+33698765401"
SHAPES = (PHONE, "698765401", "06 98 76 54 01", "0698765401", "%2B33698765401")


def _enable_every_logger() -> None:
    """Alembic's fileConfig (run by the migration tests, in-process) disables the loggers that existed
    then; a web process never runs it, so this test listens to every logger as production would."""
    for logger in logging.Logger.manager.loggerDict.values():
        if isinstance(logger, logging.Logger):
            logger.disabled = False


@pytest.fixture
def production_env(monkeypatch, database_url):
    monkeypatch.setenv("SNP_SECRET_KEY", "q" * 48)
    monkeypatch.setenv("SNP_DATABASE_URL", database_url)


@pytest.mark.parametrize("backend", ["console", "memory"])
def test_production_refuses_to_start_with_a_backend_that_logs_or_drops_sms(production_env, monkeypatch, backend):
    monkeypatch.setenv("SNP_SMS_BACKEND", backend)
    with pytest.raises(ConfigurationError, match=f"SNP_SMS_BACKEND={backend}"):
        create_app("production")


def test_production_starts_with_twilio_and_other_configurations_keep_console(production_env, monkeypatch):
    monkeypatch.setenv("SNP_SMS_BACKEND", "twilio")
    assert create_app("production").config["SMS_BACKEND"] == "twilio"
    monkeypatch.delenv("SNP_SMS_BACKEND")
    assert create_app("development").config["SMS_BACKEND"] == "console"


def test_a_booking_sms_in_production_leaves_no_phone_number_in_the_logs(app, production_env, caplog, capsys):
    twilio = FakeTwilio().start()
    production = create_app({"CONFIG_NAME": "production", **twilio.config(), "SMS_SEND_AFTER_COMMIT": False})
    try:
        with production.app_context():
            world = World()
            cpts = world.cpts()
            practitioner = world.practitioner(cpts)
            slot_id = world.slot(practitioner, utcnow() + timedelta(hours=3)).id
            headers = world.headers(world.user("regulator", cpts))
            db.session.remove()
        caplog.set_level(logging.INFO)  # production's level (configure_logging)
        _enable_every_logger()
        booked = production.test_client().post("/api/v1/bookings", headers=headers, json={
            "slot_id": slot_id, "channel": "116117",
            "patient": {"first_name": "Jeanne", "last_name": "Durand", "birth_date": str(date(1950, 3, 2)),
                        "phone": PHONE}})
        assert booked.status_code == 201, booked.get_json()
        with production.app_context():
            assert send_pending()["sent"] >= 1
            # The look-up done before resending a message whose send went unanswered: by the number.
            lookup = OutgoingSms(1, PHONE, twilio.messages[0]["body"], reference=" Réf. 1")
            claim = (utcnow() - timedelta(minutes=5), utcnow())
            get_backend().find(lookup, claim)
            written = "\n".join(record.getMessage() for record in caplog.records) + capsys.readouterr().out
            # The control: left at INFO, Twilio's client would have logged the look-up with the number.
            twilio_log = logging.getLogger("twilio.http_client")
            twilio_log.setLevel(logging.INFO)
            try:
                get_backend().find(lookup, claim)
            finally:
                twilio_log.setLevel(logging.WARNING)
            control = "\n".join(record.getMessage() for record in caplog.records)
            db.session.remove()
    finally:
        twilio.stop()
        with production.app_context():
            db.engine.dispose()

    assert [m["to"] for m in twilio.messages] == [PHONE]  # the SMS did leave
    for shape in SHAPES:
        assert shape not in written, f"{shape!r} logged"
    assert PHONE in control
