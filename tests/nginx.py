"""A throwaway nginx (Debian's package) in the foreground, for tests that need the real reverse proxy.

``Nginx(http_body).start()`` writes ``nginx.conf`` in a temporary prefix: the ``http {}`` block holds
``http_body`` (server blocks, upstreams) after the temp paths and the access log, which all live in
the prefix. ``{prefix}`` in ``http_body`` is replaced by that directory (certificates can be written
there first with ``nginx.path("ca.pem")``). Listen on 127.0.0.1 ports only: ``free_port()`` gives one.
Locally a missing binary skips the test with the reason (``conftest.need``); with ``CI=true`` it fails.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

NGINX_CANDIDATES = ("nginx", "/usr/sbin/nginx")


class NginxUnavailable(RuntimeError):
    """The binary is missing, or nginx refused its configuration."""


def nginx_binary() -> str | None:
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate) or (candidate if os.path.isabs(candidate) and os.access(candidate, os.X_OK) else None)
        if found:
            return found
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Nginx:
    def __init__(self, http_body: str = "", prefix: str | None = None):
        self.binary = nginx_binary()
        if self.binary is None:
            raise NginxUnavailable("nginx not installed (apt-get install nginx-light)")
        self.prefix = Path(prefix or tempfile.mkdtemp(prefix="snp-nginx-"))
        self.http_body = http_body
        self.process: subprocess.Popen | None = None

    def path(self, name: str) -> Path:
        return self.prefix / name

    @property
    def access_log(self) -> Path:
        return self.path("access.log")

    @property
    def error_log(self) -> Path:
        return self.path("error.log")

    def config(self) -> str:
        p = self.prefix
        # As root, workers would drop to "nobody", who cannot write the temporary prefix.
        user = "user root;\n" if os.geteuid() == 0 else ""
        body = self.http_body.replace("{prefix}", str(p))
        return f"""{user}daemon off;
worker_processes 1;
pid {p}/nginx.pid;
error_log {p}/error.log info;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {p}/client_body;
    proxy_temp_path {p}/proxy;
    fastcgi_temp_path {p}/fastcgi;
    uwsgi_temp_path {p}/uwsgi;
    scgi_temp_path {p}/scgi;
    access_log {p}/access.log;
    default_type application/octet-stream;
{body}
}}
"""

    def start(self, wait_for_port: int | None = None, timeout: float = 10) -> "Nginx":
        conf = self.path("nginx.conf")
        conf.write_text(self.config())
        check = subprocess.run([self.binary, "-t", "-p", str(self.prefix), "-c", str(conf), "-e", str(self.error_log)],
                               capture_output=True, text=True)
        if check.returncode != 0:
            raise NginxUnavailable(f"nginx refused its configuration: {check.stderr.strip()}")
        self.process = subprocess.Popen([self.binary, "-p", str(self.prefix), "-c", str(conf), "-e", str(self.error_log)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if wait_for_port is not None:
            self._wait(wait_for_port, timeout)
        return self

    def _wait(self, port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise NginxUnavailable(f"nginx exited: {self.process.stderr.read().decode(errors='replace')}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise NginxUnavailable(f"nginx did not listen on 127.0.0.1:{port}")

    def reload(self) -> None:
        self.path("nginx.conf").write_text(self.config())
        self.process.send_signal(signal.SIGHUP)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.prefix, ignore_errors=True)

    def __enter__(self) -> "Nginx":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
