"""Journal ingest: throughput of a running exporter, event-to-visible latency,
and exporter memory at 10k and 50k series.

- Throughput: 200,000 events appended in batches of 1,000 while ``serve``
  runs; events applied per second until all are visible, against the rate at
  which the same events can be appended to SQLite (same run).
- Latency: under a steady background load of 2,000 events/s, a probe event
  every 100 ms; the time from its commit to a scrape that shows it. Target:
  p99 at most 1 s.
- Memory: resident set size of ``serve`` holding 10k and 50k token series
  after a scrape (prefix caches filled), against ``serve`` with an empty journal.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import Result, applied_tokens, as_installed, visibility_under_load
from harness.support import ExporterProcess, rss_bytes_of

from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model.events import TokensUsed

_PROBE = re.compile(
    r'^hypertool_persona_tokens_used_total\{[^}]*persona="probe"[^}]*\} (\S+)$', re.M
)
CONFIG = "limits: {max_label_values: 100000}\n"


def _events(count: int, personas: int = 30) -> list[TokensUsed]:
    now = time.time()
    return [
        TokensUsed(f"persona-{i % personas}", "gpt-4o", 100, 20, f"mode-{i % 7}", now)
        for i in range(count)
    ]


def throughput(tmp: Path, config: Path, count: int) -> Result:
    events = _events(count)
    baseline_journal = Journal(tmp / "append-only.sqlite")
    start = time.perf_counter()
    for i in range(0, count, 1000):
        baseline_journal.append(events[i : i + 1000])
    append_rate = count / (time.perf_counter() - start)
    baseline_journal.close()

    serve = ExporterProcess(tmp / "throughput.sqlite", config, ready_timeout=120)
    try:
        with Journal(tmp / "throughput.sqlite") as journal:
            start = time.perf_counter()
            for i in range(0, count, 1000):
                journal.append(events[i : i + 1000])
            while applied_tokens(serve.text()) < count:
                time.sleep(0.05)
            applied_rate = count / (time.perf_counter() - start)
    finally:
        serve.stop()
    return Result(
        f"ingest: {count:,} events applied/s vs appended/s",
        applied_rate,
        append_rate,
        "ev/s",
        "(same order)",
        None,
    )


def latency(tmp: Path, config: Path, seconds: float) -> Result:
    serve = ExporterProcess(tmp / "latency.sqlite", config, ready_timeout=120)
    try:
        with Journal(tmp / "latency.sqlite") as loader, Journal(tmp / "latency.sqlite") as prober:

            def load() -> None:  # 2,000 events/s in batches of 50
                loader.append(_events(50))
                time.sleep(0.025)

            def probe() -> None:
                prober.append([TokensUsed("probe", "gpt-4o", 1, 0, "default", time.time())])

            def visible() -> int:
                match = _PROBE.search(serve.text())
                return int(float(match.group(1))) if match else 0

            return visibility_under_load(
                "event-to-visible, 2,000 ev/s load,", load, probe, visible, seconds
            )
    finally:
        serve.stop()


#: A prometheus_client process serving its registry over HTTP: the RSS an
#: empty exporter is held against.
PROMETHEUS_CLIENT_PROCESS = """
import sys, time
from prometheus_client import Counter, start_http_server
server, _ = start_http_server(0, addr="127.0.0.1")
Counter("calls", "Calls.").inc()
print(server.server_port, flush=True)
time.sleep(120)
"""


def idle(tmp: Path) -> Result:
    """An empty ``serve`` as a first run starts it (no config file), after its
    first scrape, against a prometheus_client process after its first
    scrape, both started in this run, both as installed (``as_installed``)."""
    as_installed()
    baseline = subprocess.Popen(
        [sys.executable, "-c", PROMETHEUS_CLIENT_PROCESS], stdout=subprocess.PIPE, text=True
    )
    try:
        assert baseline.stdout is not None
        port = int(baseline.stdout.readline())
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
            answer.read()
        theirs = rss_bytes_of(baseline.pid)
    finally:
        baseline.kill()
        baseline.wait()
    ours = _rss_after_a_scrape(tmp / "idle.sqlite", None)
    return Result(
        "empty serve's RSS vs a prometheus_client process",
        ours / 2**20,
        theirs / 2**20,
        "MiB",
        "<= 1.2x",
        ours <= 1.2 * theirs,
    )


def _rss_after_a_scrape(journal: Path, config: Path | None) -> int:
    """A ``serve``'s resident memory once it has answered one scrape."""
    exporter = ExporterProcess(journal, config, ready_timeout=120)
    try:
        exporter.text()
        return exporter.rss_bytes()
    finally:
        exporter.stop()


def memory(tmp: Path, config: Path, series: int) -> Result:
    personas, modes, models = {10_000: (25, 20, 10), 50_000: (50, 25, 20)}[series]
    now = time.time()
    events = [
        TokensUsed(f"persona-{p}", f"model-{mo}", 10, 5, f"mode-{m}", now)
        for p in range(personas)
        for m in range(modes)
        for mo in range(models)
    ]
    path = tmp / f"memory-{series}.sqlite"
    with Journal(path) as journal:
        for i in range(0, len(events), 5000):
            journal.append(events[i : i + 5000])
    baseline = _rss_after_a_scrape(tmp / f"empty-{series}.sqlite", config)
    rss = _rss_after_a_scrape(path, config)
    return Result(
        f"exporter RSS, {series:,} token series (+ cost series) vs empty",
        rss / 2**20,
        baseline / 2**20,
        "MiB",
        "(bounded)",
        None,
    )


def run(quick: bool = False) -> list[Result]:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        config = tmp / "config.yml"
        config.write_text(CONFIG)
        results = [
            throughput(tmp, config, 50_000 if quick else 200_000),
            latency(tmp, config, 3 if quick else 10),
        ]
        results.append(idle(tmp))
        for series in (10_000,) if quick else (10_000, 50_000):
            results.append(memory(tmp, config, series))
    return results


if __name__ == "__main__":  # pragma: no cover
    from common import table

    print(table(run(quick=os.environ.get("QUICK") == "1")))
