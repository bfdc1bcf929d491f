"""The platform's servers on one machine, for the end-to-end test and the latency benchmark:
a moto server as S3 and SQS, `hhp airflow`, and a mail server and a webhook receiver for the
alerts, each on 127.0.0.1 and stopped on exit."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hhp.config import load_settings
from infra.local_postgres import free_port

BIN = Path(sys.executable).parent
AIRFLOW_COMPONENTS = ("metadatabase", "scheduler", "triggerer", "dag_processor")


def _wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {seconds:.0f} s")


@contextmanager
def moto_server() -> Iterator[str]:
    """A moto server on 127.0.0.1; yields its endpoint URL."""
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_port(port, 30)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


class AirflowApi:
    """The few calls of Airflow's REST API (v2) that watching a chain needs; no login (see
    orchestration.local)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v2"

    def get(self, path: str, timeout: float = 60) -> dict:
        """A cold API server on a busy machine can take tens of seconds over its first calls."""
        with urllib.request.urlopen(f"{self.base}{path}", timeout=timeout) as response:
            return json.loads(response.read())

    def health(self) -> dict:
        try:
            return self.get("/monitor/health", timeout=10)
        except OSError:
            return {}

    def is_healthy(self) -> bool:
        health = self.health()
        return all(health.get(c, {}).get("status") == "healthy" for c in AIRFLOW_COMPONENTS)

    def dag_runs(self, dag_id: str = "~") -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns?limit=100&order_by=start_date")["dag_runs"]

    def trigger(self, dag_id: str) -> str:
        """Start a run of the DAG now; its run id."""
        request = urllib.request.Request(
            f"{self.base}/dags/{dag_id}/dagRuns", data=json.dumps({"logical_date": None}).encode(),
            headers={"Content-Type": "application/json"}, method="POST",
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())["dag_run_id"]

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=500")["task_instances"]


@contextmanager
def running_airflow(env: dict[str, str], startup_seconds: float = 300) -> Iterator[AirflowApi]:
    """`hhp airflow` in its own process group with `env`; yields the API once every component
    reports healthy, and stops them all (workers included) on exit."""
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "hhp"), "airflow", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    api = AirflowApi(port)
    try:
        deadline = time.monotonic() + startup_seconds
        while not api.is_healthy():
            if server.poll() is not None:
                raise RuntimeError(f"hhp airflow exited with {server.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"Airflow not healthy after {startup_seconds:.0f} s: {api.health()}")
            time.sleep(2)
        yield api
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=90)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def infra_environment(env: dict[str, str], endpoint_url: str, prefix: str = "hhp") -> dict[str, str]:
    """Run `hhp infra up` against `endpoint_url` and return `env` with the settings it wrote."""
    subprocess.run(
        [str(BIN / "hhp"), "infra", "up", "--prefix", prefix, "--endpoint-url", endpoint_url],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    written = load_settings(env).home / "infra.env"
    settings = dict(line.split("=", 1) for line in written.read_text().splitlines() if "=" in line)
    return env | {name: shlex.split(value)[0] for name, value in settings.items()}


def aws_test_environment(endpoint_url: str) -> dict[str, str]:
    """Credentials moto accepts; the region the platform provisions in by default."""
    return {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }


class _Received(list):
    port: int


@contextmanager
def _serving(server, received: _Received) -> Iterator[None]:
    """Serve on a thread until the block ends; the port it listens on goes to `received`."""
    received.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def local_smtp() -> Iterator[_Received]:
    """A mail server on 127.0.0.1 that accepts every message (no TLS, no login) and keeps each
    one's text in the list it yields."""
    import socketserver

    received = _Received()

    class Session(socketserver.StreamRequestHandler):
        def reply(self, line: str) -> None:
            self.wfile.write(line.encode() + b"\r\n")

        def handle(self) -> None:
            self.reply("220 127.0.0.1 hhp test mail server")
            while line := self.rfile.readline():
                verb = line.decode("utf-8", "replace").strip().split(" ")[0].upper()
                if verb == "EHLO":
                    self.wfile.write(b"250-127.0.0.1\r\n250 8BITMIME\r\n")
                elif verb == "DATA":
                    self.reply("354 end with <CRLF>.<CRLF>")
                    lines = []
                    while (body := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                        lines.append(body)
                    received.append(b"".join(lines).decode("utf-8", "replace"))
                    self.reply("250 queued")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:  # HELO, MAIL, RCPT, RSET, NOOP
                    self.reply("250 OK")

    with _serving(socketserver.ThreadingTCPServer(("127.0.0.1", 0), Session), received):
        yield received


@contextmanager
def local_webhook() -> Iterator[_Received]:
    """An HTTP server on 127.0.0.1 that answers every POST 200 and keeps (path, JSON body)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received = _Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            received.append((self.path, json.loads(body or b"null")))
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:  # quiet
            pass

    with _serving(ThreadingHTTPServer(("127.0.0.1", 0), Handler), received):
        yield received
