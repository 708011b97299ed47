"""Shared helpers for the benchmarks: timing, ratios, result rows."""

from __future__ import annotations

import gc
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass
class Result:
    """One benchmark line: a measured figure as a ratio to a same-run baseline."""

    name: str
    value: float
    baseline: float
    unit: str
    target: str
    passed: bool | None

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")


def interleaved_commands(
    commands: dict[str, Sequence[str]], rounds: int, env: dict | None = None
) -> dict[str, float]:
    """Median wall time (seconds) of each command, run in interleaved rounds so
    that machine noise hits all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def per_call(fn: Callable[[], None], calls: int, repeats: int = 5) -> float:
    """Best-of-``repeats`` seconds per call of ``fn`` over ``calls`` calls."""
    best = float("inf")
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as timeit does: collection pauses are noise here
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            best = min(best, (time.perf_counter() - start) / calls)
    finally:
        if gc_was_enabled:
            gc.enable()
    return best


def table(results: list[Result]) -> str:
    rows = [("benchmark", "value", "baseline", "ratio", "target", "ok")]
    for r in results:
        ok = "-" if r.passed is None else ("yes" if r.passed else "NO")
        rows.append(
            (
                r.name,
                f"{r.value:.4g} {r.unit}",
                f"{r.baseline:.4g} {r.unit}",
                f"{r.ratio:.2f}x",
                r.target,
                ok,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


def serve_argv(port: int, journal, config=None) -> list[str]:
    """The command line of ``hypertool-exporter serve`` for a benchmark."""
    import sys

    argv = [
        sys.executable,
        "-m",
        "hypertool_exporter.cli",
        "serve",
        "--port",
        str(port),
        "--journal",
        str(journal),
    ]
    if config is not None:
        argv += ["--config", str(config)]
    return argv


class Serve:
    """``serve`` as a subprocess on loopback, awaited until it answers."""

    def __init__(self, journal, port: int, config=None, env: dict | None = None):
        import os

        self.port = port
        self.proc = subprocess.Popen(
            serve_argv(port, journal, config),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **(env or {})},
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                self.scrape()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise
                time.sleep(0.05)

    def scrape(self) -> str:
        import urllib.request

        url = f"http://127.0.0.1:{self.port}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.read().decode()

    def applied(self) -> float:
        import re

        match = re.search(
            r'^hypertool_exporter_events_applied_total\{type="tokens_used"\} (\S+)$',
            self.scrape(),
            re.M,
        )
        return float(match.group(1)) if match else 0.0

    def rss_bytes(self) -> int:
        from pathlib import Path

        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
