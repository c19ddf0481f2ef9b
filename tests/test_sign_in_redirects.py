"""After signing in, the browser goes only to a page of this service (issue 28, finding 7).

Each hostile ``next`` is one a browser would read as another host once it is in ``Location``: the
WHATWG URL parser drops tabs and newlines, strips controls and spaces at the ends and reads a
backslash as a slash. The sign-in must then land on the role's home instead.
"""
from __future__ import annotations

from urllib.parse import quote, urlsplit

import pytest

from .factories import PASSWORD, page_csrf

HOSTILE = [
    "//evil.example",
    "/%09/evil.example",              # the issue's: a tab the query decodes, the browser drops
    "/%0A/evil.example", "/%0D/evil.example", "/%0D%0A/evil.example",
    "/\\evil.example", "\\\\evil.example", "\\/evil.example", "/%5Cevil.example", "%5C%5Cevil.example",
    "%2F%2Fevil.example", "/%252F/evil.example", "/%2F/evil.example",
    "%20//evil.example", "%01//evil.example", "%1F//evil.example",  # (a NUL is refused before any view: 400)
    "https://evil.example/regulation", "http:evil.example", "javascript:alert(1)", "//evil.example/regulation",
    "///evil.example", "/%09%09/evil.example", "%09/%09/evil.example", "//%09evil.example",
    "/\t/evil.example",
]


def _sign_in(client, user, next_value: str, raw: bool = False):
    query = next_value if raw else quote(next_value, safe="%/")
    return client.post(f"/login?next={query}", data={"email": user.email, "password": PASSWORD,
                                                     "csrf_token": page_csrf(client, "/login")})


def _browser_host(location: str) -> str:
    """The host a browser would go to for ``location`` (tabs and newlines dropped, backslashes as slashes)."""
    cleaned = location.replace("\t", "").replace("\n", "").replace("\r", "").strip().replace("\\", "/")
    return urlsplit(cleaned).netloc


def test_a_next_that_leaves_the_service_lands_on_the_role_home(client, world):
    user = world.user("regulator", world.cpts())
    followed = {}
    for next_value in HOSTILE:  # one app for every case: each sign-in is cheap, an app is not
        response = _sign_in(client, user, next_value, raw=True)
        assert response.status_code == 302, next_value
        location = response.headers["Location"]
        if _browser_host(location) not in ("", "localhost") or urlsplit(location).path != "/regulation":
            followed[next_value] = location
    assert followed == {}


@pytest.mark.parametrize("next_value", ["/regulation/agenda?practitioner_id=3&origin=sas", "/coordination/seasons/compare?a=1&b=2"])
def test_a_next_of_this_service_is_followed_with_its_query(client, world, next_value):
    user = world.user("coordinator", world.cpts())
    response = _sign_in(client, user, next_value)
    assert response.status_code == 302 and response.headers["Location"] == next_value


def test_a_next_that_is_no_page_of_the_service_is_not_followed(client, world):
    user = world.user("regulator", world.cpts())
    response = _sign_in(client, user, "/nulle-part/../../evil")
    assert response.headers["Location"] == "/regulation"
