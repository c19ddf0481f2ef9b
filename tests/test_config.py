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
