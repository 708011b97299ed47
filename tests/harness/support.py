"""Helpers shared by the tests: ports, polling with a deadline, scraping."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from prometheus_client.parser import text_string_to_metric_families

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "hypertool_exporter.cli"]
#: The README's example: 600 input and 250 output tokens of gpt-4 (0.033 USD).
EXAMPLE_TOKENS = (
    "tokens",
    "backend-engineer",
    "--model",
    "gpt-4",
    "--input",
    "600",
    "--output",
    "250",
)


#: The exporter's log line naming the port it listens on.
_SERVING = re.compile(r"serving https?://[^ ]+:(\d+)/metrics")


def serving_port(log: Path, start: int = 0) -> int | None:
    """The port an exporter started with port 0 logged it serves on (in
    ``log`` from byte ``start``), or ``None`` before it has."""
    if not log.exists():
        return None
    with open(log, "rb") as text:
        text.seek(start)
        found = _SERVING.search(text.read().decode("utf-8", "replace"))
    return int(found.group(1)) if found else None


def wait_for(check: Callable[[], T | None], timeout: float = 20.0, what: str = "condition") -> T:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except Exception as exc:  # the thing polled is not up yet
            last_error = exc
        else:
            if result:
                return result
        time.sleep(0.05)
    raise AssertionError(
        f"timed out after {timeout}s waiting for {what} (last error: {last_error})"
    )


def in_threads(target: Callable[[int], object], count: int) -> None:
    """``target(0)`` .. ``target(count - 1)``, each in a thread of its own, all
    at once; returns when all have."""
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def http_get(url: str, headers: dict | None = None, timeout: float = 5.0) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return response.status, response.read().decode()


def post_events(
    port: int, body: object, token: str | None = None, headers: dict | None = None
) -> tuple[int, dict]:
    """POST ``body`` as JSON to ``/v1/events``; (status, decoded JSON answer)."""
    import json
    import urllib.error

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/events",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            **({"Authorization": f"Bearer {token}"} if token else {}),
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def post_body(
    port: int,
    path: str,
    body: bytes,
    token: str,
    content_type: str = "application/json",
    headers: dict | None = None,
) -> tuple[int, bytes]:
    """POST raw ``body`` with a bearer ``token`` (``headers`` may override it);
    (status, answer bytes), also for an error status."""
    import urllib.error

    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=body,
        method="POST",
        headers={
            "Content-Type": content_type,
            "Authorization": f"Bearer {token}",
            **(headers or {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    """Samples of /metrics as {(name, sorted labels): value}."""
    _, text = http_get(f"http://127.0.0.1:{port}/metrics")
    return samples(text)


def samples(text: str) -> dict[tuple[str, tuple], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def sample(values: dict, name: str, **labels: str) -> float | None:
    return values.get((name, tuple(sorted(labels.items()))))


def total(values: dict, name: str, **labels: str) -> float:
    """The sum of ``name``'s samples that have ``labels`` (among others)."""
    wanted = labels.items()
    return sum(v for (n, got), v in values.items() if n == name and wanted <= dict(got).items())


def run_cli(*args: str, env: dict | None = None, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"{args} exited {result.returncode}: {result.stderr}")
    return result


#: The Debian package that brings each binary the tests run.
DEBIAN_PACKAGES = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "chromium": "chromium",
    "docker-compose": "docker-compose",
    "victoria-metrics": "victoria-metrics",
    "vmalert": "victoria-metrics",
    "vmagent": "victoria-metrics",
}


def require_binary(name: str) -> str:
    """Path of a system binary the test needs; in CI its absence fails, never skips."""
    path = shutil.which(name)
    if path is None:
        package = DEBIAN_PACKAGES.get(name, name)
        message = f"{name} is not installed (Debian: apt-get install {package})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def serve_argv(port: int, journal: Path, config: Path | None = None) -> list[str]:
    """The command line of ``hypertool-exporter serve`` on loopback."""
    args = [*CLI, "serve", "--port", str(port), "--journal", str(journal)]
    if config is not None:
        args += ["--config", str(config)]
    return args


def proc_stat(pid: int) -> list[str]:
    """The fields of ``/proc/PID/stat`` after the command name (state, parent
    id, ..., utime at 11, stime at 12); ``OSError`` when there is no such process."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """The CPU time, user and system, that process ``pid`` has used so far."""
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> list[int]:
    """The processes that ``pid`` started and that have not been reaped yet."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:  # a thread that ended meanwhile
            continue
    return found


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs: it exists and has not exited (a zombie,
    exited but not yet reaped, has not)."""
    try:
        return proc_stat(pid)[0] != "Z"
    except OSError:
        return False


def rss_bytes_of(pid: int) -> int:
    """Resident memory of process ``pid`` (Linux's ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS line in /proc/{pid}/status")


class ExporterProcess:
    """``hypertool-exporter serve`` as a subprocess, awaited until it answers.

    Used by the end-to-end tests and by the benchmarks; ``ready_timeout`` is
    longer in the benchmarks, which may run on a loaded machine.
    """

    def __init__(
        self,
        journal: Path,
        config: Path | None = None,
        env: dict | None = None,
        port: int | None = None,
        ready_timeout: float = 30.0,
        preexec: Callable[[], None] | None = None,
    ):
        self.journal = journal
        # Port 0 unless asked (a restart on the same port): the exporter binds
        # a free port itself and names it in its log, so no port is picked
        # here, released, and taken by someone else before the exporter binds it.
        args = serve_argv(port or 0, journal, config)
        ExporterProcess._started += 1
        self.log = journal.parent / f"exporter-{os.getpid()}-{ExporterProcess._started}.log"
        self._log_file = open(self.log, "ab")  # noqa: SIM115
        self._log_start = self._log_file.tell()
        self.proc = subprocess.Popen(
            args,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            preexec_fn=preexec,
        )
        self.port = port or wait_for(self._bound_port, ready_timeout, "exporter to bind a port")
        wait_for(self._ready, ready_timeout, "exporter to answer /healthz")

    _started = 0

    def _bound_port(self) -> int | None:
        if self.proc.poll() is not None:
            raise AssertionError(f"exporter exited: {self.log.read_text()}")
        return serving_port(self.log, self._log_start)

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"exporter exited: {self.log.read_text()}")
        return http_get(f"http://127.0.0.1:{self.port}/healthz", timeout=1)[0] == 200

    def scrape(self) -> dict:
        """Samples of /metrics, parsed (see ``samples``)."""
        return scrape(self.port)

    def scrape_when(
        self, condition: Callable[[dict], object], timeout: float = 20.0, what: str = "condition"
    ) -> dict:
        """The first scrape for which ``condition(samples)`` holds, polled until
        ``timeout`` (see ``wait_for``)."""
        return wait_for(lambda: (v := self.scrape()) and condition(v) and v, timeout, what)

    def text(self) -> str:
        """The raw /metrics body."""
        return http_get(f"http://127.0.0.1:{self.port}/metrics", timeout=10)[1]

    def rss_bytes(self) -> int:
        """Resident memory of the exporter process."""
        return rss_bytes_of(self.proc.pid)

    def stop(self, sig: int | None = None) -> None:
        if self.proc.poll() is None:
            if sig is None:
                self.proc.terminate()
            else:
                self.proc.send_signal(sig)
            self.proc.wait(20)
        self._log_file.close()


def deploy_prometheus_config(
    targets: list[str],
    rule_files: list[Path] | None = None,
    alertmanager: str | None = None,
    *,
    shipped_intervals: bool = False,
) -> dict:
    """deploy/prometheus.yml (what the compose stack runs) with this test's addresses,
    and one-second intervals unless ``shipped_intervals``."""
    import yaml

    config = yaml.safe_load((REPO / "deploy" / "prometheus.yml").read_text())
    if not shipped_intervals:
        config["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
    config["rule_files"] = [str(p) for p in rule_files or []]
    if alertmanager:
        config["alerting"]["alertmanagers"][0]["static_configs"] = [{"targets": [alertmanager]}]
    else:
        del config["alerting"]
    jobs = [job for job in config["scrape_configs"] if job["job_name"] == "hypertool"]
    jobs[0]["static_configs"] = [{"targets": targets}]
    config["scrape_configs"] = jobs
    return config


def shipped_alertmanager_config(webhook: WebhookReceiver, *, fast: bool = False) -> dict:
    """alerts/alertmanager.yml with its webhooks pointed at ``webhook``; ``fast``
    also shortens its waits to a second (for tests that are not about them)."""
    import yaml

    config = yaml.safe_load((REPO / "alerts" / "alertmanager.yml").read_text())
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = webhook.url(hook["url"].split("5001", 1)[1])
    if fast:
        route = config["route"]
        route.update(group_wait="1s", group_interval="1s", repeat_interval="1h")
        for sub in route["routes"]:
            sub.pop("repeat_interval", None)
            sub.pop("group_wait", None)
    return config


def headless_chromium(url: str, workdir: Path, *extra: str) -> subprocess.CompletedProcess:
    """Debian's Chromium, headless, on a fresh profile, with no network of its own
    (the flags keep it from reaching out at start), run on ``url``."""
    chromium = require_binary("chromium")
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            f"--user-data-dir={workdir}",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


#: The line an exporter-toolkit server (Prometheus, Alertmanager) logs once bound.
_LISTENING = re.compile(rb'msg="Listening on" address=127\.0\.0\.1:(\d+)')


class _ConfiguredServer:
    """A Debian-packaged server with a YAML config, listening on a loopback
    port the kernel picks (port 0, read back from its log: no port is chosen
    here and handed over, so none can be taken meanwhile), awaited until its
    ``/-/ready`` answers, and stopped cleanly."""

    binary_name = ""
    config_name = ""

    def __init__(self, workdir: Path, config: dict, extra_args: tuple[str, ...] = ()):
        import yaml

        binary = require_binary(self.binary_name)
        workdir.mkdir(parents=True, exist_ok=True)
        self.config_path = workdir / self.config_name
        self.config_path.write_text(yaml.safe_dump(config))
        self.log = workdir / f"{self.binary_name}.log"
        self._log_file = open(self.log, "ab")  # noqa: SIM115
        self._log_start = self._log_file.tell()  # a restart in the same directory appends
        self.proc = subprocess.Popen(
            [binary, f"--config.file={self.config_path}", *self.args(workdir), *extra_args],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self.port: int = wait_for(self._bound_port, 60, f"{self.binary_name} to bind a port")
        wait_for(self._ready, 60, f"{self.binary_name} to be ready")

    def args(self, workdir: Path) -> list[str]:
        raise NotImplementedError

    def _bound_port(self) -> int | None:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.binary_name} exited: {self.log.read_text()[-2000:]}")
        with open(self.log, "rb") as log:
            log.seek(self._log_start)
            found = _LISTENING.search(log.read())
        return int(found.group(1)) if found else None

    def _ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.binary_name} exited: {self.log.read_text()[-2000:]}")
        return http_get(f"http://127.0.0.1:{self.port}/-/ready", timeout=1)[0] == 200

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self._log_file.close()


class PrometheusProcess(_ConfiguredServer):
    """A real Prometheus server (Debian package) with the given config."""

    binary_name = "prometheus"
    config_name = "prometheus.yml"

    def args(self, workdir: Path) -> list[str]:
        return [
            f"--storage.tsdb.path={workdir / 'data'}",
            "--web.listen-address=127.0.0.1:0",
        ]

    def api(self, path: str, **params: str) -> dict:
        import json
        import urllib.parse

        url = f"http://127.0.0.1:{self.port}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        _, body = http_get(url)
        payload = json.loads(body)
        assert payload["status"] == "success", payload
        return payload["data"]

    def query(self, expr: str) -> list[dict]:
        return self.api("query", query=expr)["result"]


class AlertmanagerProcess(_ConfiguredServer):
    """A real Alertmanager (Debian package) with the given config, clustering off."""

    binary_name = "prometheus-alertmanager"
    config_name = "alertmanager.yml"

    def args(self, workdir: Path) -> list[str]:
        return [
            f"--storage.path={workdir / 'data'}",
            "--web.listen-address=127.0.0.1:0",
            "--cluster.listen-address=",
        ]


class WebhookReceiver:
    """An HTTP server that keeps every Alertmanager webhook payload it receives."""

    def __init__(self):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        received: list[tuple[str, dict, float]] = []
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with lock:
                    received.append((self.path, json.loads(body), time.time()))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.received = received
        self._lock = lock
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def alerts(self) -> list[tuple[str, str, dict]]:
        """(receiver path, status, alert) for every alert in every payload so far."""
        with self._lock:
            return [
                (path, alert["status"], alert)
                for path, payload, _ in self.received
                for alert in payload["alerts"]
            ]

    def first_time(self, alertname: str, status: str = "firing") -> float | None:
        """Wall time the first payload holding ``alertname`` in ``status`` arrived."""
        with self._lock:
            for _, payload, arrived in self.received:
                for alert in payload["alerts"]:
                    if alert["labels"]["alertname"] == alertname and alert["status"] == status:
                        return arrived
        return None

    def stop(self) -> None:
        self.server.shutdown()


def exporter_with_config(tmp_path: Path, config: str, **env: str) -> ExporterProcess:
    """``serve`` with ``config`` (YAML text) and ``env`` (ingest credentials,
    say), a fresh journal in ``tmp_path``: what most end-to-end tests start."""
    path = tmp_path / "hypertool.yml"
    path.write_text(config)
    return ExporterProcess(tmp_path / "journal.sqlite", path, env=env)
