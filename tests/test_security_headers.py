"""Security headers on every answer, no inline script, no third-party asset on any page (issue 15, item 7).

``test_every_page_is_free_of_inline_script_and_foreign_assets`` visits every HTML page the service
has (each GET route outside the JSON API, and the API's HTML answers) as a user allowed to see it:
a new page fails it until it is free of inline script, event-handler attributes, style attributes,
un-nonced ``<style>`` and assets from another host, or until it is listed in ``QUERIES``/``NOT_PAGES``.
"""
from __future__ import annotations

import re
from datetime import date, timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from snp_service import create_app
from snp_service.accounts import setup_links
from snp_service.bookings import patient_link
from snp_service.core.database import write_transaction
from snp_service.core.extensions import db
from snp_service.core.timeutil import utcnow
from snp_service.models import Season
from snp_service.requests import sending

from .factories import World

CSP_DIRECTIVES = {"default-src": "'self'", "script-src": "'self'", "object-src": "'none'",
                  "frame-ancestors": "'none'", "base-uri": "'self'", "form-action": "'self'"}


def _csp(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy", "")
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] if " " in part else ""
            for part in (p.strip() for p in header.split(";")) if part}


def _assert_security_headers(response, where: str) -> None:
    csp = _csp(response)
    for directive, value in CSP_DIRECTIVES.items():
        assert csp.get(directive) == value, f"{where}: CSP {directive} is {csp.get(directive)!r}"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"], where
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"], where
    assert response.headers.get("X-Frame-Options") == "DENY", where
    assert response.headers.get("X-Content-Type-Options") == "nosniff", where
    # The password set-up page's URL holds its secret: its own requests name only the origin.
    allowed = {"strict-origin"} if where.startswith("/password-setup/") else {"same-origin", "no-referrer"}
    assert response.headers.get("Referrer-Policy") in allowed, where


def test_every_kind_of_answer_carries_the_headers(client, world):
    headers = world.headers(world.gp(world.cpts()))
    answers = {
        "login page": client.get("/login"),
        "redirect": client.get("/"),
        "page 404": client.get("/nulle-part"),
        "API 200": client.get("/api/v1/slots", headers=headers),
        "API 401": client.get("/api/v1/slots"),
        "API 422": client.post("/api/v1/auth/token", json={}),
        "stylesheet": client.get("/static/pages/app.css"),
        "API docs": client.get("/api/v1/docs"),
        "OpenAPI": client.get("/api/v1/openapi.json"),
        "health": client.get("/healthz"),
        "feed 404": client.get(f"/calendar/{'x' * 20}.ics"),
    }
    for where, response in answers.items():
        _assert_security_headers(response, where)
        assert "Strict-Transport-Security" not in response.headers, where  # not outside production


def test_the_calendar_feed_keeps_its_stricter_referrer_policy(client, world):
    secret = world.practitioner(world.cpts()).calendar_token
    response = client.get(f"/calendar/{secret}.ics")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    _assert_security_headers(response, "calendar feed")


def test_no_answer_holding_patient_data_is_kept_by_a_cache(app):
    """Issue 28: answers with patient data carried no Cache-Control. One rule (security_headers): every answer
    to a signed-in caller, and every answer whose view declared nothing, is ``no-store``."""
    with app.app_context():
        world = World()
        cpts = world.cpts(regulation_area="Vendée")
        gp = world.gp(cpts)
        booked, free = world.slot(gp.practitioner), world.slot(gp.practitioner, utcnow() + timedelta(hours=5))
        booking_id = world.booking(booked).id
        regulator, coordinator = world.user("regulator", cpts), world.user("coordinator", cpts)
        api = world.headers(regulator)
        pages = {}
        for name, user in (("regulator", regulator), ("gp", gp), ("coordinator", coordinator)):
            pages[name] = app.test_client()
            world.sign_in_page(pages[name], user)
        feed, free_id = gp.practitioner.calendar_token, free.id
        db.session.remove()
    client = app.test_client()
    day = date.today().isoformat()
    patient = {"first_name": "Jeanne", "last_name": "Durand", "birth_date": "1950-03-02", "phone": "+33612345678"}
    made = client.post("/api/v1/bookings", headers=api,
                       json={"slot_id": free_id, "channel": "116117", "patient": patient})
    grid = pages["regulator"].get("/regulation/agenda.json")
    answers = {
        "booking made": made,
        "booking read": client.get(f"/api/v1/bookings/{booking_id}", headers=api),
        "bookings listed": client.get(f"/api/v1/bookings?from={day}&to={day}", headers=api),
        "API error to a signed-in caller": client.get("/api/v1/bookings/99999", headers=api),
        "console page": pages["regulator"].get("/regulation"),
        "console JSON (planning grid)": grid,
        "planning grid unchanged (304)": pages["regulator"].get("/regulation/agenda.json",
                                                                headers={"If-None-Match": grid.headers["ETag"]}),
        "GP page": pages["gp"].get("/gp"),
        "coordination page": pages["coordinator"].get("/coordination"),
        "calendar feed (patients' initials)": client.get(f"/calendar/{feed}.ics"),
        "sign-in page": client.get("/login"),
    }
    assert answers["booking made"].status_code == 201, answers["booking made"].get_json()
    assert answers["planning grid unchanged (304)"].status_code == 304
    assert {where: (a.status_code, a.headers.get("Cache-Control")) for where, a in answers.items()
            if a.headers.get("Cache-Control") != "no-store"} == {}
    # What holds no patient and says so stays cacheable: the public FHIR publication, static files.
    assert client.get("/api/v1/fhir/$bulk-publish").headers["Cache-Control"].startswith("public")
    assert "no-store" not in pages["regulator"].get("/static/pages/app.css").headers.get("Cache-Control", "")


def test_hsts_only_in_production_over_https(database_url, monkeypatch, app):
    monkeypatch.setenv("SNP_SECRET_KEY", "h" * 48)
    production = create_app({"CONFIG_NAME": "production", "SQLALCHEMY_DATABASE_URI": database_url,
                             "SMS_BACKEND": "twilio"})
    try:
        client = production.test_client()
        # Behind nginx (a trusted proxy) which ended TLS: X-Forwarded-Proto says https.
        secure = client.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.1"})
        assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        _assert_security_headers(secure, "production page")
        # The session cookie is Secure in production.
        assert "Secure" in secure.headers.get("Set-Cookie", "Secure")
        assert "Strict-Transport-Security" not in app.test_client().get("/login", base_url="https://localhost").headers
    finally:
        with production.app_context():
            db.engine.dispose()


def test_swagger_ui_is_served_by_the_service(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources), sources
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200, source
        assert asset.content_length and asset.content_length > 100, source
    bundle = client.get("/api/v1/docs/assets/swagger-ui-bundle.js")
    assert bundle.mimetype in {"text/javascript", "application/javascript"}
    assert client.get("/api/v1/docs/assets/index.html").status_code == 404  # only what the page loads
    assert client.get("/api/v1/docs/assets/../../openapi.json").status_code == 404


# --- every page ---------------------------------------------------------------------------------------------

# Routes outside /api/ that are not HTML pages for a person.
NOT_PAGES = {"static", "pages.static", "calendar_feed.feed", "calendar_feed.feed_api", "health.healthz",
             "health.readyz", "regulation.agenda_json", "swagger_ui.asset", "pages.index",
             "regulation.practitioner_agenda", "practice.sms",  # index and the SAS booking link: redirects
             "psc.start", "psc.callback",  # 404 until PSC is configured (tests/test_psc_sign_in.py audits them)
             "pages.second_factor_step"}  # only between password and code (tests/test_second_factor.py audits it)
# HTML answers of the API (format=html) and pages that need a query string to show anything.
API_PAGES = {"seasons.season_report": {"format": "html"}}
QUERIES = {"coordination.compare": lambda w: {"a": w["season"].id, "b": w["other_season"].id}}
NOT_PAGES |= {"metrics.metrics"}  # Prometheus's text, for the scraper's address only (issue 27)


class _PageAudit(HTMLParser):
    URL_ATTRIBUTES = {"src", "href", "action", "formaction", "data", "poster", "srcset"}

    def __init__(self, nonce: str | None):
        super().__init__(convert_charrefs=True)
        self.nonce, self.problems, self.in_script = nonce, [], False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...> (event handler attribute)")
            if name == "style":
                self.problems.append(f"<{tag} style=...> (style attribute)")
            if name in self.URL_ATTRIBUTES and value:
                for url in value.split(",") if name == "srcset" else [value]:
                    url = url.strip().split(" ")[0]
                    if url.lower().startswith("javascript:"):
                        self.problems.append(f"<{tag} {name}={url!r}> (javascript: URL)")
                    elif urlsplit(url).netloc or url.startswith("//"):
                        self.problems.append(f"<{tag} {name}={url!r}> (asset or link to another host)")
        if tag == "script":
            self.in_script = "src" not in attributes
            if self.in_script and attributes.get("type") not in {"application/json", "application/ld+json"}:
                self.problems.append("<script> without src (inline script)")
        if tag == "style" and (not self.nonce or attributes.get("nonce") != self.nonce):
            self.problems.append("<style> without the response's CSP nonce")
        if tag in {"iframe", "frame", "object", "embed", "base"}:
            self.problems.append(f"<{tag}> element")


def _audit(response) -> list[str]:
    nonce = re.search(r"'nonce-([^']+)'", response.headers.get("Content-Security-Policy", ""))
    audit = _PageAudit(nonce.group(1) if nonce else None)
    audit.feed(response.get_data(as_text=True))
    return audit.problems


@pytest.fixture
def everyone(app):
    """A small world seen by every role, built in its own app context so each client's requests
    resolve their own signed-in user (a shared context would keep the first one in ``g``)."""
    with app.app_context():
        world = World()
        cpts = world.cpts(regulation_area="Vendée")
        gp = world.gp(cpts)
        slot = world.slot(gp.practitioner)
        booking = world.booking(slot)
        with write_transaction():
            patient_url = patient_link.issue(booking)
        users = {role: world.user(role, cpts) for role in ("admin", "coordinator", "regulator")} | {"gp": gp}
        users["admin"].cpts.append(world.cpts())  # two CPTS: the CPTS list is a page, not a redirect
        gp.practitioner.takes_requests = True
        db.session.commit()
        start = utcnow() + timedelta(minutes=30)
        slot_request = sending.create(users["regulator"], cpts.id, {cpts.id}, {  # the GP's request page
            "patient": {"first_name": "Jeanne", "last_name": "Durand", "birth_date": date(1980, 1, 1), "phone": "0612345678",
                        "has_treating_doctor": "no"}, "reason": "fièvre", "channel": "116117",
            "commune_insee": gp.practitioner.commune_insee, "profession": "gp", "mode": "office",
            "not_before": start, "not_after": start + timedelta(hours=4), "radius_km": 10, "notify_patient": False})
        season = world._save(Season(cpts_id=cpts.id, name="Été", start_date=date.today() - timedelta(days=30),
                                    end_date=date.today() + timedelta(days=30)))
        other = world._save(Season(cpts_id=cpts.id, name="Hiver", start_date=date.today() - timedelta(days=200),
                                   end_date=date.today() - timedelta(days=100)))
        clients = {}
        for role, user in users.items():
            clients[role] = app.test_client()
            world.sign_in_page(clients[role], user)
        ids = {"cpts_id": cpts.id, "season_id": season.id, "practitioner_id": gp.practitioner_id,
               "slot_id": slot.id, "user_id": users["regulator"].id, "account_id": users["regulator"].id,
               "secret": setup_links.issue_setup_link(users["admin"], users["regulator"].id)[0], "page": "regulation",
               "token": patient_url.rsplit("/", 1)[1], "request_id": slot_request.id}
        db.session.remove()
    return {"clients": clients | {"anonymous": app.test_client()}, "ids": ids, "season": season,
            "other_season": other}


def test_every_page_is_free_of_inline_script_and_foreign_assets(app, everyone):
    checked, unchecked, problems = set(), [], {}
    for rule in app.url_map.iter_rules():
        endpoint = rule.endpoint
        if "GET" not in rule.methods or endpoint in NOT_PAGES:
            continue
        if rule.rule.startswith("/api/") and endpoint not in API_PAGES and endpoint != "swagger_ui.page":
            continue
        try:
            path = rule.build({name: everyone["ids"][name] for name in rule.arguments}, append_unknown=False)[1]
        except KeyError:
            unchecked.append(f"{rule.rule} (no id for {sorted(rule.arguments)})")
            continue
        query = API_PAGES.get(endpoint) or (QUERIES[endpoint](everyone) if endpoint in QUERIES else {})
        for role, client in everyone["clients"].items():
            response = client.get(path, query_string=query)
            if response.status_code == 200 and response.mimetype == "text/html":
                _assert_security_headers(response, rule.rule)
                if found := _audit(response):
                    problems[f"{rule.rule} as {role}"] = found
                checked.add(endpoint)
                break
        else:
            unchecked.append(f"{rule.rule} (no role got an HTML page)")
    assert not problems, problems
    assert not unchecked, f"pages this test could not open (give it ids or a query): {unchecked}"
    assert {"pages.login", "gp.home", "regulation.home", "coordination.home", "swagger_ui.page",
            "seasons.season_report"} <= checked


def test_the_audit_catches_what_the_policy_forbids():
    class Answer:
        headers = {"Content-Security-Policy": "style-src 'self' 'nonce-abc'"}

        def __init__(self, html):
            self.html = html

        def get_data(self, as_text):
            return self.html

    bad = ('<script>alert(1)</script><a href="javascript:void(0)">x</a><button onclick="go()">'
           '<div style="color:red"></div><style>p{}</style><script src="https://cdn.example/x.js"></script>'
           '<link rel="stylesheet" href="https://fonts.example/f.css"><img src="//cdn.example/i.png">')
    assert len(_audit(Answer(bad))) == 8
    good = ('<script src="/static/pages/gp.js"></script><style nonce="abc">p{}</style>'
            '<a href="/gp">x</a><img src="data:image/png;base64,AA">')
    assert _audit(Answer(good)) == []
