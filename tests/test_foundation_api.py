"""Authentication, error format, OpenAPI, health: what every API caller meets first."""
from __future__ import annotations

from sqlalchemy import select

from snp_service.core.extensions import db
from snp_service.models import ApiToken, AuditEvent, Practitioner

from .factories import PASSWORD


def test_token_login_returns_user_and_expiring_token(client, world):
    cpts = world.cpts()
    user = world.user("coordinator", cpts)
    response = client.post("/api/v1/auth/token", json={"email": user.email.upper(), "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"] == {"id": user.id, "role": "coordinator", "cpts_ids": [cpts.id], "practitioner_id": None}
    assert body["expires_at"].endswith("+00:00")
    me = client.get(f"/api/v1/cpts/{cpts.id}", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200 and me.get_json()["name"] == cpts.name


def test_token_issue_and_revocation_are_audited_with_the_token_id(client, world):
    user = world.user("regulator", world.cpts())
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": PASSWORD})
    headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    token_id = db.session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.revoked_at.isnot(None)))
    events = db.session.execute(select(AuditEvent.action, AuditEvent.object_id, AuditEvent.actor_label)
                                .where(AuditEvent.object_type == "api_token").order_by(AuditEvent.id)).all()
    assert [tuple(e) for e in events] == [("token.issue", token_id, f"user:{user.id}"),
                                         ("token.revoke", token_id, f"user:{user.id}")]


def test_wrong_password_is_401_with_error_format(client, world):
    user = world.user("regulator", world.cpts())
    response = client.post("/api/v1/auth/token", json={"email": user.email, "password": "nope-nope-nope"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_credentials"


def test_revoked_token_stops_working(client, world):
    cpts = world.cpts()
    headers = world.headers(world.user("coordinator", cpts))
    assert client.get(f"/api/v1/cpts/{cpts.id}", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    response = client.get(f"/api/v1/cpts/{cpts.id}", headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_deactivated_account_token_is_refused(client, world, ctx):
    from snp_service.accounts import users

    cpts = world.cpts()
    user = world.user("coordinator", cpts)
    headers = world.headers(user)
    users.set_user_active("test", user.id, False)
    assert client.get(f"/api/v1/cpts/{cpts.id}", headers=headers).status_code == 401


def test_malformed_json_is_400_not_500(client):
    response = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_wrong_types_are_422_naming_fields(client, world):
    headers = world.headers(world.user("admin"))
    response = client.post("/api/v1/cpts", json={"name": 12, "population": "many"}, headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert set(error["fields"]) == {"name", "population"}


def test_oversize_body_is_413(client, world, app):
    headers = world.headers(world.user("admin"))
    body = b'{"name": "' + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 10) + b'"}'
    response = client.post("/api/v1/cpts", data=body, content_type="application/json", headers=headers)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_anonymous_and_wrong_role(client, world):
    assert client.post("/api/v1/cpts", json={"name": "X", "population": 1}).status_code == 401
    headers = world.headers(world.user("regulator", world.cpts()))
    response = client.post("/api/v1/cpts", json={"name": "X", "population": 1}, headers=headers)
    assert response.status_code == 403


def test_coordinator_cannot_read_another_cpts(client, world):
    mine, other = world.cpts(), world.cpts()
    headers = world.headers(world.user("coordinator", mine))
    assert client.get(f"/api/v1/cpts/{other.id}", headers=headers).status_code == 403
    assert client.get("/api/v1/cpts/99999", headers=headers).status_code == 403


def test_cpts_record_size_class_from_population(client, world):
    headers = world.headers(world.user("admin"))
    payload = {"name": "CPTS Test", "population": 80_000, "regulation_area": "85-nord",
               "communes": [{"insee": "85047", "name": "Challans", "lat": 46.8467, "lon": -1.8778}]}
    response = client.post("/api/v1/cpts", json=payload, headers=headers)
    assert response.status_code == 201
    body = response.get_json()
    assert body["size_class"] == 3 and body["communes"][0]["insee"] == "85047"
    patched = client.patch(f"/api/v1/cpts/{body['id']}", json={"population": 39_999}, headers=headers)
    assert patched.get_json()["size_class"] == 1


def test_renaming_a_cpts_to_another_ones_name_is_409_and_changes_nothing(client, world):
    # Was a 500 (the unique column refused it at the commit), on both databases: issue 28, finding 8.
    taken, mine = world.cpts("CPTS Littoral"), world.cpts("CPTS Bocage")
    headers = world.headers(world.user("coordinator", mine))

    response = client.patch(f"/api/v1/cpts/{mine.id}", json={"name": "CPTS Littoral", "population": 1}, headers=headers)

    assert response.status_code == 409
    error = response.get_json()["error"]
    assert (error["code"], error["message"], error["fields"]) == (
        "name_taken", "Une CPTS porte déjà ce nom", {"name": ["already used"]})
    record = client.get(f"/api/v1/cpts/{mine.id}", headers=headers).get_json()
    assert (record["name"], record["population"]) == ("CPTS Bocage", 50_000)
    assert client.patch(f"/api/v1/cpts/{mine.id}", json={"name": "CPTS Bocage"}, headers=headers).status_code == 200
    assert client.get(f"/api/v1/cpts/{taken.id}", headers=world.headers(world.user("admin"))).get_json()["name"] == (
        "CPTS Littoral")


def test_duplicate_rpps_is_409(client, world):
    cpts = world.cpts()
    headers = world.headers(world.user("coordinator", cpts))
    payload = {"cpts_ids": [cpts.id], "rpps": "10101010105", "first_name": "A", "last_name": "B"}
    assert client.post("/api/v1/practitioners", json=payload, headers=headers).status_code == 201
    response = client.post("/api/v1/practitioners", json=payload, headers=headers)
    assert response.status_code == 409
    assert client.post("/api/v1/practitioners", json=payload | {"rpps": "123"}, headers=headers).status_code == 422


def test_an_rpps_whose_luhn_key_is_wrong_is_refused_and_nothing_is_created(client, world):
    cpts = world.cpts()
    headers = world.headers(world.user("coordinator", cpts))
    payload = {"cpts_ids": [cpts.id], "rpps": "10101010104", "first_name": "A", "last_name": "B"}  # key: 5
    response = client.post("/api/v1/practitioners", json=payload, headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert list(error["fields"]) == ["rpps"] and "RPPS" in error["fields"]["rpps"][0] and "RPPS" in error["message"]
    bad_siret = client.post("/api/v1/practitioners", json=payload | {"rpps": "10101010105",
                                                                     "practice_siret": "12345678900012"},
                            headers=headers)
    assert bad_siret.status_code == 422 and list(bad_siret.get_json()["error"]["fields"]) == ["practice_siret"]
    assert db.session.scalars(select(Practitioner.rpps).where(Practitioner.rpps.startswith("1010101010"))).all() == []
    assert client.post("/api/v1/practitioners", json=payload | {"rpps": "10101010105"},
                       headers=headers).status_code == 201


def test_user_creation_never_returns_password(client, world):
    cpts = world.cpts()
    headers = world.headers(world.user("coordinator", cpts))
    payload = {"email": "new@test.example", "password": "a-long-password", "role": "regulator", "cpts_ids": [cpts.id]}
    response = client.post("/api/v1/users", json=payload, headers=headers)
    assert response.status_code == 201
    assert "password" not in response.get_json() and "password_hash" not in response.get_json()
    escalate = client.post("/api/v1/users", json=payload | {"email": "x@test.example", "role": "admin"}, headers=headers)
    assert escalate.status_code == 403


def test_openapi_document_and_health(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/auth/token" in spec["paths"]
    assert client.get("/api/v1/docs").status_code == 200
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json()["database"] == "ok"


def test_login_is_rate_limited(client, world):
    user = world.user("regulator", world.cpts())
    codes = [client.post("/api/v1/auth/token", json={"email": user.email, "password": "wrong-wrong"}).status_code
             for _ in range(25)]
    assert codes[0] == 401 and codes[-1] == 429
