"""Durable in-process recording: a journalled collector's ``record_token_usage``
against prometheus_client's multiprocess mode making the same update (the
input and output tokens and the cost: three labelled increments, as a user
writes them), each in a process of its own, interleaved.

Every deferred cost is counted: our time runs from the first call until the
last event is committed (``flush()``) and folded (the process's own state
shows every token), so the flusher's transactions and the tailer's fold are
in the figure, on the same two cores. Rows:

- ``buffered`` (the default level) per call, target at most 0.5x the baseline;
- ``process`` and ``power`` per call, for the record (a commit, and a commit
  and fsync, per call);
- the time from a ``buffered`` record to the process's own metrics, p99,
  target at most 50 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from common import Result, spread_of

#: The same update, as prometheus_client's multiprocess mode makes it.
BASELINE = """
import os, sys, time
os.environ["PROMETHEUS_MULTIPROC_DIR"] = sys.argv[2]
from prometheus_client import Counter
calls = int(sys.argv[1])
tokens = Counter("tokens", "Tokens.", ["persona", "chatmode", "model", "token_type"])
cost = Counter("cost_usd", "Cost.", ["persona", "chatmode", "model"])
personas = [f"persona-{i}" for i in range(4)]
def update(i):
    persona = personas[i % 4]
    tokens.labels(persona, "implement", "gpt-4o", "input").inc(600)
    tokens.labels(persona, "implement", "gpt-4o", "output").inc(250)
    cost.labels(persona, "implement", "gpt-4o").inc(0.004)
for i in range(1000):
    update(i)
start = time.perf_counter()
for i in range(calls):
    update(i)
print((time.perf_counter() - start) / calls)
"""

#: Ours: recorded, committed and folded, all counted.
OURS = """
import sys, time
from prometheus_client import CollectorRegistry
from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.config import parse_config

calls, journal, level = int(sys.argv[1]), sys.argv[2], sys.argv[3]
collector = PersonaMetricsCollector(
    CollectorRegistry(),
    config=parse_config(f"journal: {{durability: {level}}}\\n"),
    journal=journal,
)
personas = [f"persona-{i}" for i in range(4)]

def folded():
    return sum(collector.state.view().counters.get(c.PERSONA_TOKENS.name, {}).values())

def settle(expected):
    collector.flush()
    while folded() < expected:
        time.sleep(0.0005)

for i in range(1000):
    collector.record_token_usage(personas[i % 4], "implement", "gpt-4o", 600, 250)
settle(850 * 1000)
start = time.perf_counter()
for i in range(calls):
    collector.record_token_usage(personas[i % 4], "implement", "gpt-4o", 600, 250)
settle(850 * (1000 + calls))
print((time.perf_counter() - start) / calls)
if level == "buffered":  # then: how soon a record shows in the process's own metrics
    seen = []
    for probe in range(200):
        before = folded()
        sent = time.perf_counter()
        collector.record_token_usage("probe", "implement", "gpt-4o", 1, 0)
        while folded() == before:
            time.sleep(0.0002)
        seen.append(time.perf_counter() - sent)
        time.sleep(0.005)
    seen.sort()
    print(seen[int(len(seen) * 0.99) - 1])
collector.close()
"""


def _run(script: str, *args: str) -> list[float]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=600
    )
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return [float(line) for line in done.stdout.split()]


def run(quick: bool = False) -> list[Result]:
    calls = 20_000 if quick else 100_000
    rounds = 3 if quick else 5
    ours: dict[str, list[float]] = {"buffered": [], "process": [], "power": []}
    baseline: list[float] = []
    visible: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(rounds):  # interleaved: each round runs both sides
            multiproc = Path(tmp) / f"multiproc-{index}"
            multiproc.mkdir()
            baseline += _run(BASELINE, str(calls), str(multiproc))
            for level in ours:
                n = calls if level == "buffered" else (2_000 if level == "process" else 300)
                journal = str(Path(tmp) / f"{level}-{index}.sqlite")
                figures = _run(OURS, str(n), journal, level)
                ours[level].append(figures[0])
                visible += figures[1:]
    base = statistics.median(baseline)
    results = [
        Result(
            "durable record, buffered (per call, committed and folded)",
            statistics.median(ours["buffered"]) * 1e6,
            base * 1e6,
            "us",
            "<= 0.5x multiprocess mode",
            statistics.median(ours["buffered"]) <= 0.5 * base,
            spread_of(ours["buffered"], baseline),
        )
    ]
    for level in ("process", "power"):
        results.append(
            Result(
                f"durable record, {level} (per call)",
                statistics.median(ours[level]) * 1e6,
                base * 1e6,
                "us",
                "for the record",
                None,
                spread_of(ours[level], baseline),
            )
        )
    results.append(
        Result(
            "buffered record to own metrics, p99",
            max(visible) * 1e3,
            50.0,
            "ms",
            "<= 50 ms (the worst round's p99)",
            max(visible) <= 0.05,
        )
    )
    return results
