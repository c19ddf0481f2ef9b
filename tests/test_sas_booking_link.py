"""The booking link the SAS platform shows its regulators (``Slot.comment``): sign-in, then the agenda."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from snp_service.core.timeutil import PARIS, utcnow

from .factories import sign_in_form as sign_in


def test_a_signed_out_regulator_signs_in_and_lands_on_the_agenda_with_origin(client, world):
    cpts = world.cpts(regulation_area="Vendée")
    doctor = world.practitioner(cpts)
    regulator = world.user("regulator", cpts)
    link = f"/regulation/praticien/{doctor.id}?origin=sas"

    first = client.get(link)
    assert first.status_code == 302
    target = urlsplit(first.headers["Location"])
    assert target.path == "/login" and parse_qs(target.query)["next"] == [link]

    page = client.get(first.headers["Location"]).get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    signed_in = client.post(first.headers["Location"], data={"email": regulator.email, "password": "correct-horse-battery",
                                                            "csrf_token": csrf})
    assert signed_in.status_code == 302 and signed_in.headers["Location"] == link

    landed = client.get(link)
    target = urlsplit(landed.headers["Location"])
    assert target.path == "/regulation/agenda"
    assert parse_qs(target.query) == {"practitioner_id": [str(doctor.id)], "origin": ["sas"]}
    agenda = client.get(landed.headers["Location"]).get_data(as_text=True)
    assert f'data-practitioner-id="{doctor.id}"' in agenda and doctor.display_name in agenda
    assert 'data-default="sas"' in agenda  # the booking form's channel


def test_the_agenda_of_the_link_shows_that_practitioner_only(client, world):
    cpts = world.cpts(regulation_area="Vendée")
    doctor, other = world.practitioner(cpts), world.practitioner(cpts)
    world.slot(doctor, utcnow() + timedelta(hours=2))
    world.slot(other, utcnow() + timedelta(hours=2))
    sign_in(client, world.user("regulator", cpts))
    day = (utcnow() + timedelta(hours=2)).astimezone(PARIS).date()
    grid = client.get(f"/regulation/agenda.json?day={day}&practitioner_id={doctor.id}").get_data(as_text=True)
    assert f'"id":{doctor.id}' in grid.replace(" ", "") and f'"id":{other.id},' not in grid.replace(" ", "")


def test_a_practitioner_outside_the_regulators_area_is_not_found(client, world):
    mine, elsewhere = world.cpts(regulation_area="Vendée"), world.cpts(regulation_area="Gironde")
    stranger = world.practitioner(elsewhere)
    sign_in(client, world.user("regulator", mine))
    assert client.get(f"/regulation/praticien/{stranger.id}?origin=sas").status_code == 404
    assert client.get(f"/regulation/agenda.json?practitioner_id={stranger.id}").status_code == 404
