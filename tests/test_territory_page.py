"""The territory on the CPTS record page: communes from the national list, population, FINESS, ACI contract."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.models import AuditEvent, Cpts
from tests.factories import page_csrf

SAINT_GILLES = ("85222", "Saint-Gilles-Croix-de-Vie", 46.6975, -1.9428)
CHALLANS = ("85047", "Challans", 46.8357, -1.8399)


def signed_in(client, world, cpts):
    world.sign_in_page(client, world.user("coordinator", cpts))
    return page_csrf(client, f"/coordination/cpts/{cpts.id}")


def test_a_commune_is_found_by_name_or_insee_and_added_with_its_centroid(client, world):
    cpts = world.cpts(communes=(SAINT_GILLES,))
    csrf = signed_in(client, world, cpts)

    page = client.get(f"/coordination/cpts/{cpts.id}?commune_q=challans").get_data(as_text=True)
    assert "Challans (85047, 85300)" in page
    assert "Challans" in client.get(f"/coordination/cpts/{cpts.id}?commune_q=85047").get_data(as_text=True)
    response = client.post(f"/coordination/cpts/{cpts.id}/communes", data={"csrf_token": csrf, "insee": "85047"})
    assert response.status_code == 302
    db.session.expire_all()
    challans = next(c for c in db.session.get(Cpts, cpts.id).communes if c.insee == "85047")
    assert (challans.name, round(challans.lat, 2), challans.postal_code) == ("Challans", 46.84, "85300")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "cpts.update")).one()
    assert "85047" in event.after["communes"]


def test_a_commune_used_by_members_stays_and_the_refusal_names_them(client, world):
    cpts = world.cpts(communes=(SAINT_GILLES, CHALLANS))
    world.practitioner(cpts, first_name="Anaïs", last_name="Guilbaud", commune_insee="85047")
    csrf = signed_in(client, world, cpts)

    client.post(f"/coordination/cpts/{cpts.id}/communes/85047/retirer", data={"csrf_token": csrf})
    page = client.get(f"/coordination/cpts/{cpts.id}").get_data(as_text=True)
    assert "Anaïs Guilbaud (Challans)" in page
    db.session.expire_all()
    assert {c.insee for c in db.session.get(Cpts, cpts.id).communes} == {"85222", "85047"}
    client.post(f"/coordination/cpts/{cpts.id}/communes/85222/retirer", data={"csrf_token": csrf})
    db.session.expire_all()
    assert {c.insee for c in db.session.get(Cpts, cpts.id).communes} == {"85047"}


def test_population_finess_and_aci_contract_are_edited_with_errors_next_to_fields(client, world):
    cpts = world.cpts(population=30_000)
    csrf = signed_in(client, world, cpts)
    form = {"csrf_token": csrf, "population": "85000", "finess": "850012345", "aci_signed_on": "2024-03-01",
            "aci_missions": "Accès aux soins\nSoins non programmés\n"}

    bad = client.post(f"/coordination/cpts/{cpts.id}/identite", data=form | {"finess": "850012340"})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert 'id="finess-error">Ce FINESS n' in page and 'value="85000"' in page
    assert client.post(f"/coordination/cpts/{cpts.id}/identite", data=form).status_code == 302
    db.session.expire_all()
    saved = db.session.get(Cpts, cpts.id)
    assert (saved.population, saved.size_class, saved.finess, saved.aci_signed_on, saved.aci_missions) == (
        85000, 3, "850012345", date(2024, 3, 1), ["Accès aux soins", "Soins non programmés"])


def test_another_cpts_territory_is_out_of_reach(client, world):
    cpts, other = world.cpts(), world.cpts(communes=(SAINT_GILLES, CHALLANS))
    csrf = signed_in(client, world, cpts)
    assert client.post(f"/coordination/cpts/{other.id}/communes", data={"csrf_token": csrf, "insee": "85194"}).status_code == 403
    assert client.post(f"/coordination/cpts/{other.id}/communes/85047/retirer", data={"csrf_token": csrf}).status_code == 403
    assert client.post(f"/coordination/cpts/{other.id}/identite",
                       data={"csrf_token": csrf, "population": "1"}).status_code == 403
    db.session.expire_all()
    assert len(db.session.get(Cpts, other.id).communes) == 2 and db.session.get(Cpts, other.id).population == 50_000


def test_the_aci_values_say_when_they_were_computed_and_can_be_recomputed_now(client, world):
    from datetime import datetime, timezone

    from snp_service.core.timeutil import paris_today
    from snp_service.models import IndicatorValue
    from snp_service.reporting import indicators

    cpts = world.cpts()
    cpts.indicator_targets = {"fill_rate": 0.7}
    db.session.commit()
    month = f"{paris_today():%Y-%m}"
    indicators.compute("job:compute_indicators", cpts.id, month)
    db.session.execute(IndicatorValue.__table__.update().values(
        computed_at=datetime(2026, 12, 7, 1, 30, tzinfo=timezone.utc)))  # 02:30 in Paris
    db.session.commit()
    csrf = signed_in(client, world, cpts)

    page = client.get(f"/coordination/cpts/{cpts.id}?period={month}").get_data(as_text=True)
    assert "le 07/12 à 02h30" in page
    assert 'name="fill_rate" type="text" value="70"' in page or re.search(r'id="fill_rate"[^>]*value="70"', page)
    assert "70.0" not in page

    response = client.post(f"/coordination/cpts/{cpts.id}/indicateurs", data={"csrf_token": csrf, "period": month})
    assert response.status_code == 302
    assert "le 07/12 à 02h30" not in client.get(f"/coordination/cpts/{cpts.id}?period={month}").get_data(as_text=True)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "indicators.compute")
                               .order_by(AuditEvent.id.desc())).first()
    assert event.actor_label.startswith("user:")
