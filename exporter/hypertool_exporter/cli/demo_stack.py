"""A local Prometheus and Alertmanager for ``demo --stack``, when they are installed.

Both run from the Debian packages' binaries with configs generated here (the
shipped alert rules, a scrape job for the demo exporter), in a throw-away
directory, and stop with the demo.
"""

from __future__ import annotations

import shutil
import socket
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


def _available(host: str, port: int) -> int:
    """``port`` when free, else any free port (say, a system Prometheus holds 9090)."""
    with socket.socket() as sock:
        try:
            sock.bind((host, port))
            return port
        except OSError:
            sock.bind((host, 0))
            port = sock.getsockname()[1]
            return port


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
    prometheus_port = _available(host, prometheus_port)
    alertmanager_port = _available(host, alertmanager_port)
    am_address = f"{host}:{alertmanager_port}"
    if alertmanager:
        am_config = workdir / "alertmanager.yml"
        am_config.write_text(yaml.safe_dump(ALERTMANAGER_CONFIG))
        proc = subprocess.Popen(
            [
                alertmanager,
                f"--config.file={am_config}",
                f"--storage.path={workdir / 'am'}",
                f"--web.listen-address={am_address}",
                "--cluster.listen-address=",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(workdir / "alertmanager.log").open("ab"),
        )
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
        address = f"{host}:{prometheus_port}"
        proc = subprocess.Popen(
            [
                prometheus,
                f"--config.file={path}",
                f"--storage.tsdb.path={workdir / 'prom'}",
                f"--web.listen-address={address}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(workdir / "prometheus.log").open("ab"),
        )
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
