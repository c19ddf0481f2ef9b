"""Configuration classes, overridden by ``SNP_*`` environment variables.

``load_config(name)`` picks a class (development, testing, production) and then
applies the environment (``SNP_<SETTING>`` for every setting of the class), so a
deployment never edits code to change a setting.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path

from flask import Config as FlaskConfig

INSTANCE_DIR = Path(os.environ.get("SNP_INSTANCE_DIR", Path.cwd() / "instance"))


class Config:
    SECRET_KEY = "dev-only-secret-key-change-me"
    SQLALCHEMY_DATABASE_URI = f"sqlite:///{INSTANCE_DIR / 'snp.sqlite3'}"
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # Request bodies beyond this get 413; an .ics import is the largest legitimate body.
    MAX_CONTENT_LENGTH = 2 * 1024 * 1024
    # The history import's own limit: its documented 50,000 rows (history_import.MAX_ROWS) of up to
    # 160-odd bytes each. nginx allows the same on that one URL (deploy/nginx/snp.conf).
    HISTORY_IMPORT_MAX_CONTENT_LENGTH = 8 * 1024 * 1024
    PUBLIC_URL = "http://127.0.0.1:5000"
    TIMEZONE = "Europe/Paris"
    TOKEN_TTL_HOURS = 12
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None
    # Page sessions live on the server (SPEC section 8): signing out, deactivation and a password
    # change end them. Idle: a regulator's 8-hour shift without a request; absolute: the longest
    # shift (12 h) and its handover, then one signs in again.
    PAGE_SESSION_IDLE_MINUTES = 480
    PAGE_SESSION_MAX_HOURS = 14
    # A one-time password set-up link (issued by a coordinator, handed over by them: no e-mail is sent)
    # serves this long: time for the person to be reached, short enough that a lost link soon dies.
    PASSWORD_SETUP_LINK_HOURS = 48
    # Sign-in throttling, counted in the database so every worker and instance shares the count:
    # attempts that did not succeed, per account (the e-mail typed) and per client address, over a
    # sliding window ("N per M minutes", the syntax of the ``limits`` package). The address limit is
    # higher: a 116 117 centre signs in many regulators from one address.
    # The lockout (issue 25): after LOCKOUT_THRESHOLD failed attempts on an account from unknown devices, they are
    # refused for LOCKOUT_MINUTES (sliding); a known device has the same budget of its own. The coordinator sees
    # and unlocks locked accounts. RATELIMIT_LOGIN_PER_ACCOUNT ("N per M minutes"), when set, overrides both.
    # A TOTP second factor after the password (snp_service/accounts/second_factor.py): when on, a password sign-in
    # without one goes to its enrolment first, and the API gives no token before. On in production.
    REQUIRE_SECOND_FACTOR = False
    LOCKOUT_THRESHOLD = 10
    LOCKOUT_MINUTES = 15
    RATELIMIT_LOGIN_PER_ACCOUNT = None
    RATELIMIT_LOGIN_PER_ADDRESS = "100 per 15 minutes"
    # Pro Santé Connect (the ANS's OpenID Connect provider of health professionals, snp_service/accounts/psc.py):
    # unset, the login page offers no PSC button. The issuer's metadata is read at
    # <issuer>/.well-known/openid-configuration; the client is the CPTS's registration with the ANS.
    PSC_ISSUER = None
    PSC_CLIENT_ID = None
    PSC_CLIENT_SECRET = None
    PSC_SCOPES = "openid scope_all"
    PSC_TIMEOUT_SECONDS = 10.0
    # The patient's own link (/r/<secret>, no sign-in): requests per client address, wrong secrets included. A
    # patient needs a handful; a guesser of 128-bit secrets gets nowhere either way. Counted per process
    # (snp_service/core/rate_limit.py) unless RATELIMIT_STORAGE_URI names a shared store.
    RATELIMIT_PATIENT_LINK_PER_ADDRESS = "30 per 10 minutes"
    RATELIMIT_STORAGE_URI = "memory://"
    # A browser or API client that signed in to an account holds a signed device token for it this long
    # (OWASP's device cookies, snp_service/accounts/known_devices.py): its failures count against it alone, so
    # someone hammering the account's e-mail locks unknown devices only. Renewed at each sign-in.
    KNOWN_DEVICE_DAYS = 90
    # Reverse proxies whose headers are believed (IPs or CIDR networks, a JSON list or comma-separated): one
    # rule (snp_service/core/proxy.py) for X-Forwarded-For / -Proto (ProxyFix, through PROXY_HOPS proxies) and
    # for the SAS client-certificate headers (sas/mtls.py), decided on the socket peer.
    TRUSTED_PROXIES = ["127.0.0.1"]
    PROXY_HOPS = 1
    # The demo's password is published in the README: production refuses it at sign-in and when set.
    ALLOW_DEMO_PASSWORD = True
    # Where the practice space keeps one SQLite database per trainee (default: <instance>/practice).
    PRACTICE_DIR = None
    # A trainee's practice database unused this long (no write, no page request of theirs) is removed (a job).
    PRACTICE_KEEP_HOURS = 24
    SMS_BACKEND = "console"
    SCHEDULER_IN_PROCESS = False
    # Publishing rules (SPEC section 4, POST /slots).
    SLOT_MIN_MINUTES = 5
    SLOT_MAX_MINUTES = 120
    PUBLISH_HORIZON_DAYS = 120
    MAX_SLOTS_PER_REQUEST = 2000
    # Patient identity is erased from bookings this long after the slot.
    PATIENT_RETENTION_DAYS = 365
    # Background jobs (issue 6). A non-leader instance retries the leader lock this often,
    # so a dead leader is replaced within a minute.
    SCHEDULER_LEADER_RETRY_SECONDS = 20.0
    # When set, every job runs at this interval instead of its own trigger (tests, demos).
    SCHEDULER_JOB_INTERVAL_SECONDS = None
    # Days whose supplement acts (and so the periods of the indicators holding them) the jobs recompute,
    # so late cancellations and outcomes are counted; older ones are closed.
    SUPPLEMENT_RECOMPUTE_DAYS = 62
    # The majoration SNP (NGAP art. 14.1.3, May 2023; SPEC section 3). PDSA hours are
    # Europe/Paris wall-clock times; Sundays and French public holidays are PDSA all day.
    # "channels" are the regulated channels: they define a regulated act in every report too.
    SUPPLEMENT_RULES = {
        "amount_cents": 1500,
        "channels": ("116117", "sas", "15"),
        "max_delay_hours": 48,
        "weekly_cap": 20,
        "pdsa_weeknight_from": "20:00",
        "pdsa_weeknight_until": "08:00",
        "pdsa_saturday_from": "12:00",
        # The professions whose regulated acts earn it: the NGAP's majoration SNP is a physician's.
        "professions": ("gp",),
    }
    # flask-smorest / OpenAPI
    API_TITLE = "SNP service API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    # Swagger UI is served by snp_service/api/docs.py from the service's own files, not by flask-smorest
    # (whose page loads it from a CDN and starts it with an inline script).
    TWILIO_ACCOUNT_SID = None
    TWILIO_AUTH_TOKEN = None
    TWILIO_FROM = None
    TWILIO_MESSAGING_SERVICE_SID = None
    TWILIO_BASE_URL = None
    TWILIO_TIMEOUT_SECONDS = 10.0
    # SMS outbox (issue 5): wake a sender thread after each commit that queued messages.
    SMS_SEND_AFTER_COMMIT = True
    SMS_MAX_ATTEMPTS = 10
    SMS_RETRY_BASE_SECONDS = 30
    SMS_RETRY_MAX_SECONDS = 1800
    # A row claimed longer than this is checked with the provider before any resend.
    SMS_LEASE_SECONDS = 300
    REMINDER_BEFORE_MINUTES = 120
    # A slot request ("demande de créneau") stays open this long at most, and never past its window's end.
    SLOT_REQUEST_TTL_MINUTES = 30
    # A request reaches at most this many practitioners, the nearest first: enough for one of them to answer
    # within the half hour, without texting a whole département when the radius is wide.
    SLOT_REQUEST_MAX_RECIPIENTS = 30
    # The national SAS platform (SPEC section 7). Its calls: the client certificate's CN and OU, checked by
    # the reverse proxy; the regulation area its regulator accounts join.
    SAS_CLIENT_CN = None
    SAS_CLIENT_OU = None
    SAS_REGULATION_AREA = None
    # Our calls to it (INT_R03): its FHIR base, our client certificate and key, the CA that signs its server.
    SAS_API_URL = None
    SAS_CLIENT_CERT = None
    SAS_CLIENT_KEY = None
    SAS_CA_BUNDLE = None
    SAS_PUSH_CHANNELS = ["sas", "116117"]
    # The system (URL or urn:oid) of our identifiers sent to the platform; default <PUBLIC_URL>/sas.
    SAS_EDITOR_SYSTEM = None
    SAS_PUSH_SEND_AFTER_COMMIT = True
    SAS_PUSH_MAX_ATTEMPTS = 12
    SAS_PUSH_RETRY_BASE_SECONDS = 30
    SAS_PUSH_RETRY_MAX_SECONDS = 1800
    # A call claimed longer than this is sent again, as an idempotent conditional update.
    SAS_PUSH_LEASE_SECONDS = 120
    SAS_PUSH_TIMEOUT_SECONDS = 10.0
    # The number the open SMART Scheduling Links publication gives for booking a slot (booking-phone).
    SMART_BOOKING_PHONE = "116117"
    # Backups (snp_service/ops/backup.py): `snp backup` writes here unless given --to, and removes its
    # backups older than this many days. They hold patient data (mode 600).
    BACKUP_DIR = str(INSTANCE_DIR / "backups")
    BACKUP_KEEP_DAYS = 14
    # Who may read /metrics (snp_service/ops/metrics.py): socket addresses (IPs or CIDRs) of the Prometheus
    # server scraping each instance directly; nginx never forwards it.
    METRICS_ALLOW = ["127.0.0.1"]


class DevelopmentConfig(Config):
    # `make run` turns the in-process scheduler on; CLI commands must not start one.
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SMS_BACKEND = "memory"
    # Tests drive notify.sender.send_pending (and sas_sender.send_pending) themselves.
    SMS_SEND_AFTER_COMMIT = False
    SAS_PUSH_SEND_AFTER_COMMIT = False
    WTF_CSRF_ENABLED = True


class ProductionConfig(Config):
    SECRET_KEY = None
    SQLALCHEMY_DATABASE_URI = None
    SESSION_COOKIE_SECURE = True
    ALLOW_DEMO_PASSWORD = False
    REQUIRE_SECOND_FACTOR = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

# Settings whose environment name is not SNP_<setting>: SNP_DATABASE_URL -> SQLALCHEMY_DATABASE_URI.
ENV_ALIASES = {"DATABASE_URL": "SQLALCHEMY_DATABASE_URI"}
_TWILIO_SETTINGS = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_MESSAGING_SERVICE_SID")


class ConfigurationError(RuntimeError):
    """A setting is missing or unsafe for the chosen configuration."""


def load_config(name: str | None = None, overrides: dict | None = None) -> dict:
    """Return the settings of config class ``name`` with the environment and ``overrides`` applied.

    Every setting ``X`` of the class may be set by ``SNP_X``, read with Flask's ``from_prefixed_env``:
    values are JSON when they parse as JSON (``60``, ``true``, ``["sas", "116117"]``), else strings;
    ``SNP_SUPPLEMENT_RULES__weekly_cap=15`` sets one key of a dict setting. A setting whose default is
    a string keeps the raw text (a secret that happens to look like a number stays a string).
    """
    name = name or os.environ.get("SNP_CONFIG", "development")
    try:
        cls = CONFIGS[name]
    except KeyError:
        raise ConfigurationError(f"unknown configuration {name!r}; choose one of {sorted(CONFIGS)}")
    settings = FlaskConfig(str(Path.cwd()))
    # Copies: ``SNP_X__key`` edits a dict setting in place, which must not change the class.
    settings.update(copy.deepcopy(vars_of(cls)))
    for alias, key in ENV_ALIASES.items():
        if os.environ.get(f"SNP_{alias}"):
            settings[key] = os.environ[f"SNP_{alias}"]
    settings.from_prefixed_env("SNP", loads=_loads)
    for key, default in vars_of(cls).items():
        raw = os.environ.get(f"SNP_{key}")
        if raw and isinstance(default, str):
            settings[key] = raw
    for alias in ENV_ALIASES:
        settings.pop(alias, None)
    for key in _TWILIO_SETTINGS:
        if os.environ.get(key):
            settings[key] = os.environ[key]
    settings = {key: value for key, value in settings.items() if key.isupper()}
    settings["CONFIG_NAME"] = name
    settings.update(overrides or {})
    _split_lists(settings, vars_of(cls))
    _check(settings)
    return settings


def _split_lists(settings: dict, defaults: dict) -> None:
    """A list setting given as one text (``SNP_TRUSTED_PROXIES=10.0.0.1, 10.0.0.0/8``, which is not JSON) is split
    at its commas, here, once: the code reads lists. So is a list inside a dict setting
    (``SNP_SUPPLEMENT_RULES__channels=sas,116117``)."""
    for key, default in defaults.items():
        value = settings.get(key)
        if isinstance(default, (list, tuple)) and isinstance(value, str):
            settings[key] = _split(value)
        elif isinstance(default, dict) and isinstance(value, dict):
            texts = {sub: _split(value[sub]) for sub, sub_default in default.items()
                     if isinstance(sub_default, (list, tuple)) and isinstance(value.get(sub), str)}
            if texts:
                settings[key] = value | texts


def _split(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def vars_of(cls: type) -> dict:
    return {key: getattr(cls, key) for key in dir(cls) if key.isupper()}


def _loads(raw: str):
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _check(settings: dict) -> None:
    if settings["CONFIG_NAME"] != "production":
        return
    secret = settings.get("SECRET_KEY")
    if not secret or secret == Config.SECRET_KEY or len(secret) < 32:
        raise ConfigurationError("production needs SNP_SECRET_KEY: a random secret of 32 characters or more")
    if not settings.get("SQLALCHEMY_DATABASE_URI"):
        raise ConfigurationError("production needs SNP_DATABASE_URL")
    if settings.get("SMS_BACKEND") in _NOT_FOR_PRODUCTION_SMS:
        raise ConfigurationError(f"production refuses SNP_SMS_BACKEND={settings['SMS_BACKEND']}: "
                                 f"{_NOT_FOR_PRODUCTION_SMS[settings['SMS_BACKEND']]}; use twilio")


_NOT_FOR_PRODUCTION_SMS = {
    "console": "it prints every SMS, so patients' phone numbers, in the log",
    "memory": "it keeps the SMS in the process and sends none",
}
