"""The production files of ``deploy/`` made runnable on 127.0.0.1 by the tests, changing only ports and paths.

Each replacement must find its text: when ``deploy/`` changes shape, the test says what it no longer
finds instead of quietly testing something else.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
PRODUCTION_PORTS = ("127.0.0.1:8001", "127.0.0.1:8002")


def _replace(text: str, old: str, new: str, where: str) -> str:
    if old not in text:
        raise AssertionError(f"{where}: expected {old!r} (deploy/ changed: update tests/deploy_config.py)")
    return text.replace(old, new)


def nginx_site(web_ports: tuple[int, int], http_port: int, https_port: int, certificate_dir: Path,
               log_dir: Path, include_dir: Path) -> str:
    """deploy/nginx/snp.conf for a throwaway nginx: its upstreams on ``web_ports``, its own ports and paths."""
    where = "deploy/nginx/snp.conf"
    text = (DEPLOY / "nginx" / "snp.conf").read_text()
    for production, port in zip(PRODUCTION_PORTS, web_ports):
        text = _replace(text, f"server {production} ", f"server 127.0.0.1:{port} ", where)
    text = re.sub(r"^\s*listen \[::\].*\n", "", text, flags=re.MULTILINE)  # no IPv6 needed on the loopback
    text = _replace(text, "listen 80;", f"listen 127.0.0.1:{http_port};", where)
    text = _replace(text, "listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;", where)
    text = _replace(text, "/etc/ssl/snp/", f"{certificate_dir}/", where)
    text = _replace(text, "/var/log/nginx/", f"{log_dir}/", where)
    return _replace(text, "/etc/nginx/snp/", f"{include_dir}/", where)


def self_signed_certificate(directory: Path) -> Path:
    """fullchain.pem and privkey.pem for 127.0.0.1 in ``directory`` (openssl); returns the certificate."""
    directory.mkdir(parents=True, exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(directory / "privkey.pem"),
                    "-out", str(directory / "fullchain.pem")], check=True, capture_output=True)
    return directory / "fullchain.pem"


def unit(name: str) -> dict[str, list[str]]:
    """The [Service] settings of a unit in deploy/systemd/ (a key may repeat: Environment=)."""
    settings: dict[str, list[str]] = {}
    section = None
    for line in (DEPLOY / "systemd" / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "Service" and "=" in line:
            key, _, value = line.partition("=")
            settings.setdefault(key, []).append(value)
    return settings


@dataclass
class UnitProcess:
    """A unit's ExecStart run as systemd would, with the test's environment in place of EnvironmentFile."""
    name: str
    instance: str = ""
    env: dict = field(default_factory=dict)
    log_path: Path | None = None
    process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        settings = unit(self.name)
        working_directory = settings["WorkingDirectory"][0]
        binaries = f"{working_directory}/.venv/bin/"
        argv = settings["ExecStart"][0].replace("%i", self.instance).split()
        assert argv[0].startswith(binaries), f"{self.name}: ExecStart runs {argv[0]}, not from {binaries}"
        return [str(Path(sys.executable).parent / argv[0].removeprefix(binaries)), *argv[1:]]

    def environment(self) -> dict:
        settings = unit(self.name)
        env = {key: value for key, value in os.environ.items() if not key.startswith("SNP_")}
        env.update(self.env)
        for assignment in settings.get("Environment", []):
            key, _, value = assignment.replace("%i", self.instance).partition("=")
            env[key] = value
        return env

    def start(self) -> "UnitProcess":
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(self.command(), cwd=REPO, env=self.environment(), stdout=log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        if self.process is None:
            return
        if self.alive():
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        kill_group(self.process.pid)  # and whatever is left in its group: a failed test leaves nothing running
        if self.alive():
            self.process.wait(timeout=5)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path and self.log_path.exists() else ""


def kill_group(group: int) -> None:
    try:
        os.killpg(group, signal.SIGKILL)
    except ProcessLookupError:
        pass


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (gunicorn's workers of a master)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry.name))
    return found


def is_running(pid: int) -> bool:
    """Alive and not a zombie (an exited orphan may wait for its reaper)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(predicate, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def answers(url: str, **kwargs) -> bool:
    try:
        return requests.get(url, timeout=2, **kwargs).status_code == 200
    except requests.RequestException:
        return False


def nginx_available() -> bool:
    from .nginx import nginx_binary

    return nginx_binary() is not None and shutil.which("openssl") is not None
