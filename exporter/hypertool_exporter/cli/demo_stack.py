"""A local Prometheus and Alertmanager for ``demo --stack``, when they are installed.

Both run from the Debian packages' binaries with configs generated here (the
shipped alert rules, a scrape job for the demo exporter), in a throw-away
directory, and stop with the demo.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..bundle.rules import render_rules

ALERTMANAGER_CONFIG = {
    "route": {
        "receiver": "demo",
        "group_by": ["alertname", "persona", "workflow"],
        "group_wait": "10s",
        "group_interval": "1m",
        "repeat_interval": "4h",
    },
    "inhibit_rules": [
        {
            "source_matchers": ['alertname="PersonaTokenBudgetExceeded"'],
            "target_matchers": ['alertname="PersonaTokenBudgetNearlyExhausted"'],
            "equal": ["job", "instance", "persona"],
        }
    ],
    "receivers": [{"name": "demo"}],
}


@dataclass
class Stack:
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


#: What Prometheus and Alertmanager (exporter-toolkit) log once they listen.
_LISTENING = re.compile(rb'msg="Listening on" address=(\S+)')
#: How long a server may take to bind before it is given up.
BIND_SECONDS = 30.0


def _launch(
    argv: list[str], host: str, port: int, log: Path
) -> tuple[subprocess.Popen[bytes], str]:
    """Start a Prometheus-style server on ``host:port``; when that port is
    taken (say, a system Prometheus holds 9090), on one the kernel picks.
    Returns the process and the address it bound, read from its log, so no
    port is picked here and handed over (another could take it meanwhile)."""
    while True:
        start = log.stat().st_size if log.exists() else 0
        proc = subprocess.Popen(
            [*argv, f"--web.listen-address={host}:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=log.open("ab"),
        )
        deadline = time.monotonic() + BIND_SECONDS
        while time.monotonic() < deadline:
            with log.open("rb") as text:
                text.seek(start)
                written = text.read()
            found = _LISTENING.search(written)
            if found:
                return proc, found.group(1).decode()
            if proc.poll() is not None:
                break
            time.sleep(0.1)
        if proc.poll() is None or port == 0 or b"address already in use" not in written:
            return proc, f"{host}:{port}"  # not bound: the caller's readiness check says so
        port = 0


def start_stack(
    workdir: Path,
    exporter: str,
    host: str = "127.0.0.1",
    prometheus_port: int = 9090,
    alertmanager_port: int = 9093,
) -> Stack:
    """Start whatever of Prometheus and Alertmanager is installed; never raises for a
    missing binary (the demo still serves /metrics)."""
    stack = Stack()
    workdir.mkdir(parents=True, exist_ok=True)
    alertmanager = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    prometheus = shutil.which("prometheus")
    am_address = ""
    if alertmanager:
        am_config = workdir / "alertmanager.yml"
        am_config.write_text(yaml.safe_dump(ALERTMANAGER_CONFIG))
        argv = [
            alertmanager,
            f"--config.file={am_config}",
            f"--storage.path={workdir / 'am'}",
            "--cluster.listen-address=",
        ]
        proc, am_address = _launch(argv, host, alertmanager_port, workdir / "alertmanager.log")
        stack.processes.append(proc)
        if _ready(f"http://{am_address}/-/ready", proc):
            stack.urls["Alertmanager"] = f"http://{am_address}"
        else:
            stack.notes.append(f"Alertmanager did not start; see {workdir}/alertmanager.log")
    else:
        stack.notes.append("Alertmanager is not installed (Debian: prometheus-alertmanager)")
    if prometheus:
        rules = workdir / "hypertool.rules.yml"
        rules.write_text(render_rules())
        config: dict[str, Any] = {
            "global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
            "rule_files": [str(rules)],
            "scrape_configs": [
                {"job_name": "hypertool", "static_configs": [{"targets": [exporter]}]}
            ],
        }
        if "Alertmanager" in stack.urls:
            config["alerting"] = {
                "alertmanagers": [{"static_configs": [{"targets": [am_address]}]}]
            }
        path = workdir / "prometheus.yml"
        path.write_text(yaml.safe_dump(config))
        argv = [prometheus, f"--config.file={path}", f"--storage.tsdb.path={workdir / 'prom'}"]
        proc, address = _launch(argv, host, prometheus_port, workdir / "prometheus.log")
        stack.processes.append(proc)
        if _ready(f"http://{address}/-/ready", proc):
            stack.urls["Prometheus"] = f"http://{address}"
            stack.urls["Alerts"] = f"http://{address}/alerts"
        else:
            stack.notes.append(f"Prometheus did not start; see {workdir}/prometheus.log")
    else:
        stack.notes.append("Prometheus is not installed (Debian: prometheus)")
    return stack


__all__ = ["ALERTMANAGER_CONFIG", "Stack", "start_stack"]
