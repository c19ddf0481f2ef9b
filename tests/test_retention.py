"""Patient data retention: identity erased after the retention period, reports unchanged."""
from __future__ import annotations

from datetime import date, timedelta

from snp_service.bookings import retention
from snp_service.core.extensions import db
from snp_service.models import Booking, OutboxMessage, Patient
from snp_service.reporting import fill_rate

from .supplement_helpers import act, paris

NOW = paris("2021-09-01T12:00")  # retention 365 days: slots before 2020-09-01 12:00 Paris are old


def test_purge_erases_old_identities_and_keeps_reports(world):
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    old = act(world, gp, "2020-07-20T10:00", has_treating_doctor="yes")
    old.reason = "Fièvre depuis hier"
    no_show = act(world, gp, "2020-07-21T10:00", outcome="no_show")
    recent = act(world, gp, "2021-08-30T10:00")
    # The same patient booked again recently: identity kept until that booking is old too.
    returning = act(world, gp, "2020-07-22T10:00")
    returning_again = act(world, gp, "2021-08-31T10:00")
    returning_again.patient = returning.patient
    sms_old = OutboxMessage(kind="patient_confirmation", recipient="patient", booking=old, to_phone="+33612345678",
                            body="RDV confirme")
    sms_recent = OutboxMessage(kind="patient_confirmation", recipient="patient", booking=recent,
                               to_phone="+33612345678", body="RDV confirme")
    db.session.add_all([sms_old, sms_recent])
    db.session.commit()
    before = fill_rate.summary([cpts.id], date(2020, 7, 1), date(2021, 8, 31))

    assert retention.purge_patient_data(now=NOW) == {"patients": 2, "booking_reasons": 1, "sms": 1}

    db.session.expire_all()
    for booking in (old, no_show):
        patient = booking.patient
        assert (patient.first_name, patient.last_name, patient.birth_date, patient.phone, patient.treating_rpps) == (
            None, None, None, None, None)
        assert patient.erased_at == NOW
    assert db.session.get(Booking, old.id).reason is None
    assert db.session.get(Booking, old.id).has_treating_doctor == "yes"
    for booking in (recent, returning):
        assert booking.patient.last_name == "Durand" and booking.patient.erased_at is None
    assert (db.session.get(OutboxMessage, sms_old.id).to_phone, db.session.get(OutboxMessage, sms_old.id).body) == (
        None, None)
    assert db.session.get(OutboxMessage, sms_recent.id).to_phone == "+33612345678"
    assert fill_rate.summary([cpts.id], date(2020, 7, 1), date(2021, 8, 31)) == before


def test_purge_twice_erases_nothing_more(world, app):
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    act(world, gp, "2020-07-20T10:00")
    assert retention.purge_patient_data(now=NOW)["patients"] == 1
    assert retention.purge_patient_data(now=NOW + timedelta(hours=1)) == {"patients": 0, "booking_reasons": 0, "sms": 0}
    assert db.session.query(Patient).one().erased_at == NOW


def test_retention_period_is_configurable(world, app):
    app.config["PATIENT_RETENTION_DAYS"] = 30
    cpts = world.cpts()
    gp = world.practitioner(cpts)
    act(world, gp, "2021-07-20T10:00")  # 43 days before NOW
    act(world, gp, "2021-08-10T10:00")  # 22 days before NOW
    assert retention.purge_patient_data(now=NOW)["patients"] == 1
