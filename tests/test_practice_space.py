"""The practice space: a trainee's own database, the real console on it, the scripted callers and their scorecards."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from snp_service.core.timeutil import utcnow
from snp_service.core.extensions import db
from snp_service.models import Booking, OutboxMessage, PracticeRun

from .factories import page_csrf
from .practice_world import book, build_area, enter_practice, finish, search, send_slot_request, start_scenario


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_every_practice_page_says_so_and_the_real_console_books_on_practice_data(app, client, world, tmp_path):
    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    area = build_area(world)
    bookings_before, sms_before = _count(Booking), _count(OutboxMessage)
    token = enter_practice(client, area.regulator)
    start_scenario(client, token, 1)

    console = client.get("/regulation").get_data(as_text=True)
    assert "<title>Entraînement – Régulation" in console and "ENTRAÎNEMENT" in console
    assert "Quitter l'entraînement" in console and "Dr Bonnet" in console  # the caller card names the real doctor
    grid = client.get("/regulation/agenda").get_data(as_text=True)
    assert "ENTRAÎNEMENT" in grid and "<title>Entraînement – Agenda partagé" in grid

    results = search(client, commune="85222", treating_rpps=area.doctors[0].rpps)
    assert results[0]["is_treating_doctor"] and results[0]["practitioner"]["last_name"] == "Bonnet"
    booked = book(client, token, results[0]["slot"]["id"], has_treating_doctor="yes",
                  treating_rpps=area.doctors[0].rpps)
    assert booked.status_code == 201, booked.get_json()
    scorecard = finish(client, token).get_json()
    assert scorecard["ok"] is True and "le médecin traitant avait un créneau" in scorecard["why"]
    assert scorecard["seconds"] == 42.0 and scorecard["navigation_keys"] == 9
    sms = client.get("/regulation/entrainement/sms.json").get_json()["text"]
    assert sms and "Bonnet" in sms

    # Nothing reached the real database but the scorecard.
    assert (_count(Booking), _count(OutboxMessage)) == (bookings_before, sms_before)
    run = db.session.scalars(select(PracticeRun)).one()
    assert (run.user_id, run.scenario, run.ok, run.duration_ms) == (area.regulator.id, "medecin-traitant-disponible",
                                                                    True, 42_000)


def test_booking_another_slot_than_the_treating_doctors_is_scored_with_why(app, client, world, tmp_path):
    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    area = build_area(world)
    token = enter_practice(client, area.regulator)
    start_scenario(client, token, 1)
    results = search(client, commune="85222")  # the treating doctor forgotten
    other = next(r for r in results if r["practitioner"]["last_name"] != "Bonnet")
    assert book(client, token, other["slot"]["id"]).status_code == 201
    scorecard = finish(client, token).get_json()
    assert scorecard["ok"] is False
    assert "il fallait le proposer en premier" in scorecard["why"]


def test_the_race_scenario_takes_the_chosen_slot_first(app, client, world, tmp_path):
    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    area = build_area(world)
    token = enter_practice(client, area.regulator)
    start_scenario(client, token, 6)
    first = search(client, commune="85222", treating_rpps=area.doctors[0].rpps)[0]
    lost = book(client, token, first["slot"]["id"])
    assert lost.status_code == 409 and lost.get_json()["error"]["code"] == "slot_unavailable"
    alternative = lost.get_json()["error"]["alternatives"][0]
    assert book(client, token, alternative["slot"]["id"]).status_code == 201
    assert finish(client, token).get_json()["ok"] is True


def test_cancel_move_and_no_booking_scenarios_are_checked(app, client, world, tmp_path):
    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    area = build_area(world)
    token = enter_practice(client, area.regulator)
    start_scenario(client, token, 7)
    now = utcnow()
    listed = client.get("/api/v1/bookings", query_string={"from": now.isoformat(), "to": (now + timedelta(days=2)).isoformat(),
                                                          "status": "booked"}).get_json()
    girard = next(b for b in listed if b["patient"] and b["patient"]["last_name"] == "Girard")
    answer = client.post(f"/api/v1/bookings/{girard['id']}/cancel", json={"by": "patient", "reason": None},
                         headers={"X-CSRFToken": token})
    assert answer.status_code == 200, answer.get_json()
    assert finish(client, token).get_json()["ok"] is True

    start_scenario(client, token, 8)
    listed = client.get("/api/v1/bookings", query_string={"from": now.isoformat(), "to": (now + timedelta(days=2)).isoformat(),
                                                          "status": "booked"}).get_json()
    roux = next(b for b in listed if b["patient"] and b["patient"]["last_name"] == "Roux")
    later = [r for r in search(client, commune="85222", radius_km=60)
             if r["slot"]["start"] >= (datetime.fromisoformat(roux["slot"]["start"]) + timedelta(hours=2)).isoformat()]
    answer = client.post(f"/api/v1/bookings/{roux['id']}/move", json={"slot_id": later[0]["slot"]["id"]},
                         headers={"X-CSRFToken": token})
    assert answer.status_code == 201, answer.get_json()
    assert finish(client, token).get_json()["ok"] is True

    start_scenario(client, token, 4)
    slot = search(client, commune="85222")[0]
    assert book(client, token, slot["slot"]["id"]).status_code == 201
    scorecard = finish(client, token, ended=True).get_json()
    assert scorecard["ok"] is False and "hors du territoire" in scorecard["why"]


def test_the_caller_outside_the_area_needs_the_call_ended(app, client, world, tmp_path):
    """Scenario 4: nothing booked is right only once the call was ended ("Terminer sans rendez-vous", F8)."""
    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    area = build_area(world)
    token = enter_practice(client, area.regulator)
    start_scenario(client, token, 4)
    scorecard = finish(client, token).get_json()  # the scorecard asked for without the call ended
    assert scorecard["ok"] is False and scorecard["why"].startswith("L'appel n'a pas été terminé")
    start_scenario(client, token, 4)
    scorecard = finish(client, token, ended=True).get_json()
    assert scorecard["ok"] is True and "Terminer sans rendez-vous" in scorecard["why"]
    assert finish(client, token, ended="oui").status_code == 422  # already done: nothing in progress
    start_scenario(client, token, 4)
    assert finish(client, token, ended="oui").status_code == 422

    # Left for the next caller without ending the call: counted, not as the expected outcome.
    start_scenario(client, token, 4)
    start_scenario(client, token, 5)
    summary = client.get("/regulation/entrainement").get_data(as_text=True)
    row = summary[summary.index("4. Un appelant hors du territoire"):].split("</li>")[0]
    assert "À revoir" in row and "Appel laissé sans suite" in row
    assert db.session.scalar(select(func.count()).select_from(PracticeRun)) == 2  # only the scorecards shown


def _search_answer(client, **params) -> dict:
    return client.get("/api/v1/slots/search", query_string={"commune": "85222", "profession": "gp"} | params).get_json()


def test_nothing_free_in_48_hours_teaches_the_first_later_slot(app, client, world, tmp_path):
    """Scenario 9: nothing in the window, the search's later slots; the first one is the expected booking."""
    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    area = build_area(world)
    token = enter_practice(client, area.regulator)
    start_scenario(client, token, 9)
    card = client.get("/regulation").get_data(as_text=True)
    assert "je peux attendre quelques jours s&#39;il le faut" in card
    answer = _search_answer(client)
    assert answer["results"] == [] and len(answer["later"]) >= 2
    first, second = answer["later"][0], answer["later"][1]
    assert datetime.fromisoformat(first["slot"]["start"]) > utcnow() + timedelta(hours=48)
    assert book(client, token, first["slot"]["id"]).status_code == 201
    scorecard = finish(client, token).get_json()
    assert scorecard["ok"] is True and "Prochains créneaux disponibles" in scorecard["why"]
    assert f"Dr {first['practitioner']['last_name']}" in scorecard["why"]

    start_scenario(client, token, 9)  # rebuilt: another later slot than the first
    second = _search_answer(client)["later"][1]
    assert book(client, token, second["slot"]["id"]).status_code == 201
    scorecard = finish(client, token).get_json()
    assert scorecard["ok"] is False and scorecard["why"].startswith("Réservé ")
    assert "il fallait réserver le premier des « Prochains créneaux disponibles »" in scorecard["why"]

    start_scenario(client, token, 9)  # nothing done, the call ended
    scorecard = finish(client, token, ended=True).get_json()
    assert scorecard["ok"] is False and scorecard["why"].startswith("Aucun rendez-vous réservé")


def test_a_slot_request_in_practice_is_scored_and_never_leaves(app, client, world, tmp_path):
    """Scenario 9 answered with "Demander un créneau": the later slot was the better answer; the request and its
    texts stay in the practice database (no real request, no real SMS)."""
    from snp_service.models import SlotRequest

    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    area = build_area(world)
    for doctor in area.doctors[:2]:
        doctor.takes_requests, doctor.phone = True, "+33612000001"
    db.session.commit()
    counts = (_count(SlotRequest), _count(OutboxMessage))
    token = enter_practice(client, area.regulator)
    start_scenario(client, token, 9)
    sent = send_slot_request(client, token)
    assert sent.status_code == 201, sent.get_json()
    assert sent.get_json()["recipients"] == 2
    assert client.get(f"/api/v1/slot-requests/{sent.get_json()['id']}").get_json()["status"] == "open"
    scorecard = finish(client, token).get_json()
    assert scorecard["ok"] is False and scorecard["why"].startswith("Une demande de créneau a été envoyée")
    assert "Prochains créneaux disponibles" in scorecard["why"]
    assert (_count(SlotRequest), _count(OutboxMessage)) == counts


def test_reset_leave_and_who_may_practise(app, client, world, tmp_path):
    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    area = build_area(world)
    token = enter_practice(client, area.regulator)
    start_scenario(client, token, 1)
    # A slot of the base agenda (numbered first), not one the scenario added: the rebuild makes the base agenda
    # again, without the scenario. (In the evening, the scenario's slot "soon" is the best result.)
    slot_id = min(r["slot"]["id"] for r in search(client, commune="85222"))
    assert book(client, token, slot_id).status_code == 201
    assert slot_id not in {r["slot"]["id"] for r in search(client, commune="85222")}
    assert client.post("/regulation/entrainement/reinitialiser", data={"csrf_token": token}).status_code == 302
    assert slot_id in {r["slot"]["id"] for r in search(client, commune="85222")}  # rebuilt: free again
    assert client.post("/regulation/entrainement/quitter", data={"csrf_token": token}).status_code == 302
    page = client.get("/regulation").get_data(as_text=True)
    assert "ENTRAÎNEMENT" not in page and not list((tmp_path / "practice").glob("[0-9]*.sqlite"))


def test_a_gp_may_not_practise(app, client, world, tmp_path):
    area = build_area(world)
    world.sign_in_page(client, area.gp)
    assert client.get("/regulation/entrainement").status_code == 403


def test_practice_runs_in_production_and_no_sms_leaves(app, database_url, monkeypatch, tmp_path):
    """SNP_CONFIG=production refuses demo data; practice is not demo data: it works there, and sends nothing."""
    from snp_service import create_app
    from snp_service.notify.sender import send_pending

    from .factories import World
    from .fake_twilio import FakeTwilio

    monkeypatch.setenv("SNP_SECRET_KEY", "q" * 48)
    monkeypatch.setenv("SNP_DATABASE_URL", database_url)
    twilio = FakeTwilio().start()
    try:
        production = create_app({"CONFIG_NAME": "production", **twilio.config(), "PRACTICE_DIR": str(tmp_path / "p")})
        with production.app_context():
            if database_url.startswith("sqlite"):
                db.create_all()
            area = build_area(World())
            for doctor in area.doctors[:2]:  # a slot request made in practice would text them
                doctor.takes_requests, doctor.phone = True, "+33612000001"
            db.session.commit()
            client = production.test_client()
            client.environ_base["wsgi.url_scheme"] = "https"  # production's cookies are Secure
            World.sign_in_page(client, area.regulator)
            db.session.remove()
        token = enter_practice(client, area.regulator, signed_in=True)
        start_scenario(client, token, 1)
        slot = search(client, commune="85222", treating_rpps=area.doctors[0].rpps)[0]["slot"]["id"]
        assert book(client, token, slot).status_code == 201
        assert finish(client, token).get_json()["ok"] is True
        start_scenario(client, token, 9)
        assert send_slot_request(client, token).get_json()["recipients"] == 2
        with production.app_context():
            send_pending()
        assert twilio.messages == [] and twilio.requests == 0
    finally:
        twilio.stop()


def test_the_coordinator_sees_who_practised(app, tmp_path):
    from .factories import World

    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    client, coordinator = app.test_client(), app.test_client()
    with app.app_context():  # each request then has an app context (and a signed-in user) of its own
        world = World()
        area = build_area(world)
        idle = world.user("regulator", area.cpts, email="idle.regulator@test.example")
        world.sign_in_page(client, area.regulator)
        world.sign_in_page(coordinator, area.coordinator)
    token = enter_practice(client, area.regulator, signed_in=True)
    for number, seconds in ((9, 30_000), (4, 50_000), (9, 70_000)):
        start_scenario(client, token, number)
        assert finish(client, token, duration_ms=seconds).status_code == 200
    page = coordinator.get(f"/coordination?cpts_id={area.cpts.id}").get_data(as_text=True)
    table = page[page.index('id="practice-table"'):]
    trainee_row = table[table.index(area.regulator.email):].split("</tr>")[0]
    assert "2 / 9" in trainee_row and "50,0 s" in trainee_row  # scenarios 4 and 9; median of 30, 50, 70 s
    idle_row = table[table.index(idle.email):].split("</tr>")[0]
    assert "0 / 9" in idle_row and "jamais" in idle_row


def test_help_pages_the_overlay_and_the_tour_once(app, client, world):
    area = build_area(world)
    world.sign_in_page(client, area.regulator)
    console = client.get("/regulation").get_data(as_text=True)
    assert 'id="help-button"' in console and 'id="help-dialog"' in console
    assert 'id="tour-offer"' in console and "Commencer la visite" in console
    assert "Réserver le créneau libre sous le curseur" in client.get("/regulation/agenda").get_data(as_text=True)
    token = page_csrf(client, "/regulation")
    assert client.post("/aide/visite", headers={"X-CSRFToken": token}).status_code == 200
    assert 'id="tour-offer"' not in client.get("/regulation").get_data(as_text=True)
    replay = client.get("/regulation?visite=1").get_data(as_text=True)  # replayed from Aide
    assert 'data-replay="true"' in replay and "data-steps='[{" in replay
    for page, words in (("regulation", "médecin traitant vient toujours en premier"), ("medecin", "iPhone"),
                        ("coordination", "Relevé des majorations")):
        answer = client.get(f"/aide/{page}")
        assert answer.status_code == 200 and words in answer.get_data(as_text=True)
    when_nothing_fits = client.get("/aide/regulation").get_data(as_text=True).split("Quand rien ne convient")[1]
    assert "« Prochains créneaux disponibles »" in when_nothing_fits and "« Demander un créneau »" in when_nothing_fits
    assert "« Prochains créneaux disponibles »" in console  # the overlay says it too


def test_a_practice_database_rebuilt_by_another_process_is_the_one_read(app, client, world, tmp_path):
    """gunicorn runs several workers: one rebuilds the file, another's engine must not keep reading the old one."""
    from snp_service.practice import space

    app.config["PRACTICE_DIR"] = str(tmp_path / "practice")
    area = build_area(world)
    token = enter_practice(client, area.regulator)
    start_scenario(client, token, 1)
    old_engine = space.engine_for(app, area.regulator.id)
    slot_id = search(client, commune="85222")[0]["slot"]["id"]
    assert book(client, token, slot_id).status_code == 201
    other_worker = app.extensions.pop("snp_practice_engines")  # what another process would have cached
    start_scenario(client, token, 1)  # rebuilt here
    app.extensions["snp_practice_engines"] = other_worker  # back in the "other process"
    assert slot_id in {r["slot"]["id"] for r in search(client, commune="85222")}  # the new file: free again
    assert space.engine_for(app, area.regulator.id) is not old_engine


def test_the_clean_up_job_removes_practice_files_unused_for_a_day_and_never_one_in_use(app, world, tmp_path):
    import os
    import subprocess

    from snp_service.models import JobRun, PageSession
    from snp_service.scheduling import run_job

    directory = tmp_path / "practice"
    directory.mkdir()
    app.config["PRACTICE_DIR"] = str(directory)
    assert app.config["PRACTICE_KEEP_HOURS"] == 24
    now = utcnow()
    cpts = world.cpts()
    idle, in_use, recent, wal_recent = (world.user("regulator", cpts) for _ in range(4))

    def make(name: str, hours_old: float) -> None:
        path = directory / name
        path.write_bytes(b"x" * 100)
        at = (now - timedelta(hours=hours_old)).timestamp()
        os.utime(path, (at, at))

    make(f"{idle.id}.sqlite", 30)
    make(f"{idle.id}.sqlite-wal", 26)
    make(f"{in_use.id}.sqlite", 30)  # not written for 30 h, but its trainee asked for a page an hour ago
    make(f"{recent.id}.sqlite", 2)
    make(f"{wal_recent.id}.sqlite", 30)
    make(f"{wal_recent.id}.sqlite-wal", 1)  # written an hour ago (the write-ahead log)
    gone = subprocess.Popen(["true"])
    gone.wait()
    make(f".schema-{gone.pid}.sqlite", 48)  # the empty schema of a process that has ended
    make(f".schema-{os.getpid()}.sqlite", 48)  # this process's: still used by its next build
    for user, seen_hours_ago in ((idle, 30), (in_use, 1)):
        db.session.add(PageSession(user_id=user.id, secret_hash=f"{user.id:064d}", created_at=now - timedelta(hours=31),
                                   last_seen_at=now - timedelta(hours=seen_hours_ago)))
    db.session.commit()

    result = run_job(app, "purge_practice_files")

    assert sorted(os.listdir(directory)) == sorted([
        f"{in_use.id}.sqlite", f"{recent.id}.sqlite", f"{wal_recent.id}.sqlite", f"{wal_recent.id}.sqlite-wal",
        f".schema-{os.getpid()}.sqlite"])
    assert result == {"removed": 1, "kept_in_use": 1, "schemas_removed": 1, "bytes_freed": 300}
    run = db.session.scalars(select(JobRun).where(JobRun.job == "purge_practice_files")).one()
    assert run.succeeded and run.result == result
    assert run_job(app, "purge_practice_files")["removed"] == 0  # nothing more


def test_without_any_later_slot_the_slot_request_is_the_right_answer(app, client, world):
    """Scenario 9's rule when the search has no later slot either (its arrangement always leaves one)."""
    from snp_service.practice.scenarios import _check_later

    area = build_area(world)
    ok, why = _check_later({}, "goal", [])
    assert ok is False and "il fallait « Demander un créneau »" in why
    area.doctors[0].takes_requests, area.doctors[0].phone = True, "+33612000001"
    db.session.commit()
    world.sign_in_page(client, area.regulator)
    assert send_slot_request(client, page_csrf(client, "/regulation")).status_code == 201
    ok, why = _check_later({}, "goal", [])
    assert ok is True and "la demande de créneau aux professionnels proches était la bonne réponse" in why
