"""The accounts part of the coordinator's dashboard: whose account it is; a refused creation keeps what was typed."""
from __future__ import annotations

import re

from tests.factories import page_csrf


def test_the_table_names_each_accounts_practitioner(client, world):
    cpts = world.cpts()
    world.gp(cpts, first_name="Yann", last_name="Lebreton")
    world.sign_in_page(client, world.user("coordinator", cpts))

    page = client.get("/coordination").get_data(as_text=True)
    assert re.search(r"<td[^>]*>Dr Yann Lebreton \(\d{11}\)</td>", page)


def test_a_refused_creation_keeps_what_was_typed_but_the_password_with_the_error_next_to_its_field(client, world):
    cpts = world.cpts()
    taken = world.user("regulator", cpts, email="pris@example.fr")
    world.sign_in_page(client, world.user("coordinator", cpts))
    csrf = page_csrf(client, "/coordination")

    response = client.post("/coordination/accounts", data={"csrf_token": csrf, "email": taken.email,
                                                           "password": "un-mot-de-passe-long", "role": "regulator",
                                                           "practitioner_id": "0"})

    assert response.status_code == 422
    page = response.get_data(as_text=True)
    email_input = re.search(r'<input[^>]*id="email"[^>]*>', page).group(0)
    assert 'value="pris@example.fr"' in email_input and "autofocus" in email_input and 'aria-invalid="true"' in email_input
    assert re.search(r'<p class="field-error" id="email-error">[^<]*existe déjà', page)
    password_input = re.search(r'<input[^>]*id="password"[^>]*>', page).group(0)
    assert "un-mot-de-passe-long" not in page and 'value=""' in password_input or "value" not in password_input
    assert "Compte invalide" not in page


def test_a_too_short_password_is_said_next_to_the_password(client, world):
    cpts = world.cpts()
    world.sign_in_page(client, world.user("coordinator", cpts))
    csrf = page_csrf(client, "/coordination")

    response = client.post("/coordination/accounts", data={"csrf_token": csrf, "email": "nouveau@example.fr",
                                                           "password": "court", "role": "regulator",
                                                           "practitioner_id": "0"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'<p class="field-error" id="password-error">[^<]+</p>', page)
    assert 'value="nouveau@example.fr"' in page
