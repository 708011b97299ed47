"""VictoriaMetrics and vmalert from Debian's ``victoria-metrics`` package, for
the end-to-end tests: each listens on a port the kernel picks.

Version 1.79 logs the address it was given (``127.0.0.1:0``), not the port
it bound, so the port is read from the kernel: the listening socket among
the process's own file descriptors (``/proc``). No port is picked here and
handed over, so none can be taken meanwhile.
"""

from __future__ import annotations

import json
import subprocess
import urllib.parse
from pathlib import Path

import yaml

from harness.support import http_get, require_binary, wait_for

#: TCP state LISTEN in /proc/net/tcp.
_LISTEN = "0A"


def listening_ports(pid: int) -> list[int]:
    """The TCP ports process ``pid`` listens on (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().as_posix()
        except OSError:  # closed meanwhile
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == _LISTEN and fields[9] in inodes:
                ports.append(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


class _Process:
    """A Debian-packaged VictoriaMetrics binary on loopback, awaited until it
    answers, and stopped cleanly."""

    binary_name = ""

    def __init__(self, workdir: Path, args: list[str]):
        binary = require_binary(self.binary_name)
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / f"{self.binary_name}.log"
        self._log_file = open(self.log, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [binary, "-httpListenAddr=127.0.0.1:0", *args],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        self.port: int = wait_for(self._bound_port, 60, f"{self.binary_name} to bind a port")
        wait_for(self._ready, 60, f"{self.binary_name} to answer")
        self.url = f"http://127.0.0.1:{self.port}"

    def _alive(self) -> None:
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.binary_name} exited: {self.log.read_text()[-3000:]}")

    def _bound_port(self) -> int | None:
        self._alive()
        ports = listening_ports(self.proc.pid)
        return ports[0] if ports else None

    def _ready(self) -> bool:
        self._alive()
        return http_get(f"http://127.0.0.1:{self.port}/health", timeout=1)[0] == 200

    def get(self, path: str, **params: str) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        status, body = http_get(f"{self.url}{path}{query}", timeout=10)
        assert status == 200, (status, body[:500])
        return json.loads(body)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self._log_file.close()


class VictoriaMetricsProcess(_Process):
    """Single-node VictoriaMetrics, written to by vmagent and vmalert."""

    binary_name = "victoria-metrics"

    def __init__(self, workdir: Path):
        super().__init__(
            workdir,
            [
                f"-storageDataPath={workdir / 'data'}",
                # Queries see samples a second old (30 s by default, for
                # remote writes that arrive late; these arrive within a second).
                "-search.latencyOffset=1s",
            ],
        )

    def api(self, path: str, **params: str) -> list[dict]:
        """The ``data.result`` of a Prometheus-API query."""
        payload = self.get(f"/api/v1/{path}", **params)
        assert payload["status"] == "success", payload
        return payload["data"]["result"]

    def query(self, expr: str) -> list[dict]:
        return self.api("query", query=expr)


class VmagentProcess(_Process):
    """vmagent scraping by ``scrape_config`` (a Prometheus config, whose rule
    and alerting sections it leaves to vmalert: ``strictParse=false``) and
    remote-writing to ``victoria``."""

    binary_name = "vmagent"

    def __init__(self, workdir: Path, scrape_config: dict, victoria: str):
        config = workdir / "scrape.yml"
        workdir.mkdir(parents=True, exist_ok=True)
        config.write_text(yaml.safe_dump(scrape_config))
        super().__init__(
            workdir,
            [
                f"-promscrape.config={config}",
                "-promscrape.config.strictParse=false",
                f"-remoteWrite.url={victoria}/api/v1/write",
                f"-remoteWrite.tmpDataPath={workdir / 'queue'}",
            ],
        )


class VmalertProcess(_Process):
    """vmalert evaluating ``rules`` against ``datasource``, writing recording
    rules and alert state back to it, and notifying ``alertmanager``."""

    binary_name = "vmalert"

    def __init__(
        self, workdir: Path, rules: Path, datasource: str, alertmanager: str, interval: str
    ):
        super().__init__(
            workdir,
            [
                f"-rule={rules}",
                f"-datasource.url={datasource}",
                f"-remoteWrite.url={datasource}",
                f"-notifier.url={alertmanager}",
                f"-evaluationInterval={interval}",
            ],
        )

    def alerts(self) -> list[dict]:
        return self.get("/api/v1/alerts")["data"]["alerts"]

    def groups(self) -> list[dict]:
        """The rule groups as loaded, each with its rules' health and last error."""
        return self.get("/api/v1/rules")["data"]["groups"]
