"""deploy/prometheus/alerts.yml: valid rules (``promtool check rules``), and each alert fires when it should and not
before (``promtool test rules alerts_test.yml``); every alert has its test, and every metric it reads is one
the service exposes."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from .conftest import need

PROMETHEUS = Path(__file__).resolve().parent.parent / "deploy" / "prometheus"


def _promtool() -> str:
    promtool = shutil.which("promtool")
    if not promtool:
        need("promtool (apt-get install prometheus)")
    return promtool


def _run(*args: str) -> str:
    result = subprocess.run([_promtool(), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_alert_rules_are_valid():
    assert "SUCCESS: 5 rules found" in _run("check", "rules", "alerts.yml")


def test_alerts_fire_when_they_should():
    assert "SUCCESS" in _run("test", "rules", "alerts_test.yml")


def test_every_alert_is_tested_and_reads_metrics_the_service_exposes(client):
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    tests = yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
    tested = {case["alertname"] for test in tests for case in test["alert_rule_test"] if case.get("exp_alerts")}
    assert {rule["alert"] for rule in rules} == tested
    exposed = client.get("/metrics").get_data(as_text=True)
    for rule in rules:
        for metric in set(re.findall(r"\bsnp_[a-z_]+", rule["expr"])):
            family = re.sub(r"_(bucket|count|sum)$", "", metric)
            assert f"# TYPE {family} " in exposed, f"{rule['alert']} reads {metric}, which /metrics does not expose"
