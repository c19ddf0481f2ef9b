"""Page login, CSRF and role homes, as a browser without JavaScript sees them."""
from __future__ import annotations

import re

import pytest

from .factories import PASSWORD


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def _login(client, email, password=PASSWORD):
    token = _csrf(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


def test_login_page_is_french_and_phone_ready(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="fr">' in html and "Se connecter" in html
    assert 'name="viewport"' in html


@pytest.mark.parametrize("role,home", [("regulator", "/regulation"), ("coordinator", "/coordination")])
def test_login_redirects_to_role_home(client, world, role, home):
    user = world.user(role, world.cpts())
    response = _login(client, user.email)
    assert response.status_code == 302 and response.headers["Location"].endswith(home)
    assert client.get(home).status_code == 200


def test_wrong_password_says_so_in_french(client, world):
    user = world.user("regulator", world.cpts())
    response = _login(client, user.email, "pas-le-bon-mot-de-passe")
    assert response.status_code == 401
    assert "E-mail ou mot de passe incorrect" in response.get_data(as_text=True)


def test_page_login_is_rate_limited(client, world):
    user = world.user("regulator", world.cpts())
    token = _csrf(client.get("/login").get_data(as_text=True))
    codes = [client.post("/login", data={"email": user.email, "password": "pas-le-bon", "csrf_token": token}).status_code
             for _ in range(25)]
    # Locked or wrong, the page answers alike (issue 25): even the right password is refused now.
    right = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert codes == [401] * 25 and right.status_code == 401


def test_login_without_csrf_token_is_refused(client, world):
    user = world.user("regulator", world.cpts())
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code in (200, 400)
    assert client.get("/regulation").status_code == 302  # still anonymous


def test_pages_need_login_and_the_right_role(client, world):
    response = client.get("/coordination")
    assert response.status_code == 302 and "/login?next=/coordination" in response.headers["Location"]
    user = world.user("regulator", world.cpts())
    _login(client, user.email)
    forbidden = client.get("/coordination")
    assert forbidden.status_code == 403
    assert "Accès refusé" in forbidden.get_data(as_text=True) or "non autorisée" in forbidden.get_data(as_text=True)


def test_unknown_page_is_a_french_404(client):
    response = client.get("/nulle-part")
    assert response.status_code == 404 and "Page introuvable" in response.get_data(as_text=True)


def test_open_redirect_is_ignored(client, world):
    user = world.user("regulator", world.cpts())
    token = _csrf(client.get("/login").get_data(as_text=True))
    response = client.post("/login?next=//evil.example", data={"email": user.email, "password": PASSWORD,
                                                               "csrf_token": token})
    assert response.headers["Location"].endswith("/regulation")


def test_api_with_session_cookie_needs_the_csrf_header(client, world):
    cpts = world.cpts()
    user = world.user("coordinator", cpts)
    _login(client, user.email)
    payload = {"email": "x@test.example", "password": "a-long-password", "role": "regulator", "cpts_ids": [cpts.id]}
    refused = client.post("/api/v1/users", json=payload)
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf_failed"
    page = client.get("/coordination").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    accepted = client.post("/api/v1/users", json=payload, headers={"X-CSRFToken": token})
    assert accepted.status_code == 201


def test_logout_ends_the_session(client, world):
    user = world.user("regulator", world.cpts())
    _login(client, user.email)
    page = client.get("/regulation").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    client.post("/logout", data={"csrf_token": token})
    assert client.get("/regulation").status_code == 302
