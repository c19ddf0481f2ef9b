"""Configuration: production refuses to start on development secrets."""
import pytest

from config import ConfigurationError, load_config


def test_production_refuses_the_default_secret(monkeypatch):
    monkeypatch.delenv("SNP_SECRET_KEY", raising=False)
    monkeypatch.setenv("SNP_DATABASE_URL", "postgresql+psycopg://snp@db/snp")
    with pytest.raises(ConfigurationError, match="SNP_SECRET_KEY"):
        load_config("production")


def test_production_refuses_to_run_without_a_database(monkeypatch):
    monkeypatch.setenv("SNP_SECRET_KEY", "x" * 40)
    monkeypatch.delenv("SNP_DATABASE_URL", raising=False)
    with pytest.raises(ConfigurationError, match="SNP_DATABASE_URL"):
        load_config("production")


def test_environment_overrides_the_class(monkeypatch):
    monkeypatch.setenv("SNP_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("SNP_DATABASE_URL", "postgresql+psycopg://snp@db/snp")
    monkeypatch.setenv("SNP_SMS_BACKEND", "twilio")
    monkeypatch.setenv("SNP_PUBLISH_HORIZON_DAYS", "60")
    settings = load_config("production")
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    assert settings["SMS_BACKEND"] == "twilio" and settings["PUBLISH_HORIZON_DAYS"] == 60


def test_unknown_configuration_name():
    with pytest.raises(ConfigurationError):
        load_config("staging")


def test_every_setting_comes_from_the_environment_with_its_type(monkeypatch):
    monkeypatch.setenv("SNP_RATELIMIT_LOGIN_PER_ACCOUNT", "5 per minute")
    monkeypatch.setenv("SNP_SCHEDULER_IN_PROCESS", "true")
    monkeypatch.setenv("SNP_TOKEN_TTL_HOURS", "1.5")
    monkeypatch.setenv("SNP_SUPPLEMENT_RULES__weekly_cap", "15")
    monkeypatch.setenv("SNP_SECRET_KEY", "12345")
    settings = load_config("development")
    assert settings["RATELIMIT_LOGIN_PER_ACCOUNT"] == "5 per minute"
    assert settings["SCHEDULER_IN_PROCESS"] is True
    assert settings["TOKEN_TTL_HOURS"] == 1.5
    assert settings["SUPPLEMENT_RULES"]["weekly_cap"] == 15 and settings["SUPPLEMENT_RULES"]["amount_cents"] == 1500
    assert settings["SECRET_KEY"] == "12345"  # a string setting keeps the raw text
    assert "DATABASE_URL" not in settings


def test_a_nested_setting_does_not_change_the_class(monkeypatch):
    monkeypatch.setenv("SNP_SUPPLEMENT_RULES__weekly_cap", "3")
    assert load_config("development")["SUPPLEMENT_RULES"]["weekly_cap"] == 3
    monkeypatch.delenv("SNP_SUPPLEMENT_RULES__weekly_cap")
    assert load_config("development")["SUPPLEMENT_RULES"]["weekly_cap"] == 20


def test_a_list_setting_given_as_text_is_a_list_once_loaded(monkeypatch):
    """``SNP_X=a,b`` is not JSON, so it arrives as one string: the configuration splits it, once, for every reader."""
    monkeypatch.setenv("SNP_TRUSTED_PROXIES", "10.0.0.1, 10.0.0.0/8")
    monkeypatch.setenv("SNP_SAS_PUSH_CHANNELS", "sas")
    monkeypatch.setenv("SNP_SUPPLEMENT_RULES__channels", "sas,116117")
    settings = load_config("testing")
    assert settings["TRUSTED_PROXIES"] == ["10.0.0.1", "10.0.0.0/8"]
    assert settings["SAS_PUSH_CHANNELS"] == ["sas"]
    assert settings["SUPPLEMENT_RULES"]["channels"] == ["sas", "116117"]
    assert load_config("testing", {"TRUSTED_PROXIES": "192.0.2.1"})["TRUSTED_PROXIES"] == ["192.0.2.1"]
