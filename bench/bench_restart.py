"""Restart time with a large journal, and fold throughput.

A journal of N events (1,000,000 by default) is written and folded once with
a snapshot, as a running exporter leaves it. Then `hypertool-exporter serve`
is started as a subprocess and timed until /metrics shows every event; the
baseline is the same start on an empty journal, measured in the same run.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

from common import Result
from harness.support import serve_argv, serving_port

from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model.events import (
    Event,
    LLMCallFinished,
    PersonaSwitched,
    StageFinished,
    TokensUsed,
    event_to_dict,
)
from hypertool_exporter.model.work import QualityScored, ToolCallFinished, WorkflowRunFinished
from hypertool_exporter.sync.tailer import JournalTailer

TARGET_SECONDS = 3.0


#: The personas and models of the journals written here.
PERSONAS = [f"persona-{i}" for i in range(30)]
MODELS = ["gpt-4o", "claude-sonnet-4", "gpt-4o-mini"]


def journal_events(count: int, seed: int = 3) -> Iterator[Event]:
    """``count`` events of the four kinds in turn, 30 personas, ending now."""
    rnd = random.Random(seed)
    now = time.time()
    for i in range(count):
        p = rnd.choice(PERSONAS)
        ts = now - (count - i) * 0.01
        kind = i % 4
        if kind == 0:
            yield PersonaSwitched(p, f"mode-{i % 7}", None, f"s{i % 50}", ts)
        elif kind == 1:
            yield TokensUsed(p, rnd.choice(MODELS), 500, 100, "default", ts)
        elif kind == 2:
            yield StageFinished("wf", f"stage-{i % 5}", p, 12.0, "passed", ts)
        else:
            yield LLMCallFinished(p, rnd.choice(MODELS), 0.8, None, ts)


def token_events(count: int, seed: int = 3) -> Iterator[Event]:
    """``count`` plain token events, the same personas and models, ending
    now: a journal one kind fills, which a replay cannot split by kind."""
    rnd = random.Random(seed)
    now = time.time()
    for i in range(count):
        ts = now - (count - i) * 0.01
        yield TokensUsed(rnd.choice(PERSONAS), rnd.choice(MODELS), 500, 100, "default", ts)


def work_events(count: int, seed: int = 3) -> Iterator[Event]:
    """``count`` events as an instrumented app's workflow runs leave them,
    ending now: each run a trace, three stages, and in each stage a call
    (its tokens charged to the stage, some read from a prompt cache, and its
    latency) and a tool call; then a score and the run's end. Every event
    carries its run's trace id: the journal of OTLP ingest and of
    ``WorkflowTracer``, which neither splits nor folds as cheaply as plain
    token events."""
    rnd = random.Random(seed)
    now = time.time()
    n = 0
    while n < count:
        trace, p, wf = f"{rnd.getrandbits(128):032x}", rnd.choice(PERSONAS), f"wf-{n % 7}"
        run: list[Event] = []
        for stage in ("plan", "build", "review"):
            model, ts = rnd.choice(MODELS), now - (count - n - len(run)) * 0.01
            cached = rnd.choice((0, 0, 400))
            run += [
                TokensUsed(
                    p, model, 500, 100, "agent", ts, trace, cached, 0, 0, workflow=wf, stage=stage
                ),
                LLMCallFinished(p, model, 0.8, None, ts, trace),
                ToolCallFinished(p, f"tool-{rnd.randrange(9)}", 0.2, None, ts, trace),
                StageFinished(wf, stage, p, 12.0, "passed", ts, trace),
            ]
        ts = now - (count - n - len(run)) * 0.01
        run += [
            QualityScored(p, "relevance", rnd.random(), None, ts, trace),
            WorkflowRunFinished(wf, "succeeded", 36.0, p, ts, trace),
        ]
        yield from run[: count - n]
        n += len(run)


#: A journal's events: (how many, seed) -> the events.
Events = Callable[[int, int], Iterator[Event]]


def write_journal(path: Path, count: int, seed: int = 3, kinds: Events | None = None) -> None:
    """A journal of ``count`` events of ``kinds`` (``journal_events``'s four, by default)."""
    events = (kinds or journal_events)(count, seed)
    with Journal(path) as journal:
        while batch := list(itertools.islice(events, 20_000)):
            journal.append(batch)


def bytes_per_event(path: Path, count: int) -> tuple[float, float]:
    """(bytes of the journal file per event, bytes of the same events as JSON
    objects, the form of schema 2, text alone, from a sample)."""
    size = sum(os.path.getsize(p) for p in (path, Path(f"{path}-wal")) if p.exists())
    sample = list(journal_events(10_000))
    as_objects = sum(len(json.dumps(event_to_dict(e))) for e in sample) / len(sample)
    return size / count, as_objects


_APPLIED = re.compile(r"^hypertool_exporter_events_applied_total\{[^}]*\} (\S+)$", re.M)


def applied(port: int) -> float:
    """Events applied, read from a full /metrics scrape (the exporter renders
    everything; the client only looks for one family, so its parsing time
    does not count against the exporter)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(float(v) for v in _APPLIED.findall(text))


#: Seconds a start may take before it counts as failed (a loaded machine is slow).
START_DEADLINE = 180.0


def time_start(journal: Path, expected: int) -> float:
    """Seconds from starting ``serve`` until /metrics shows ``expected`` events
    applied; ``RuntimeError`` saying what was seen (and serve's last log lines)
    when it exits or does not get there in ``START_DEADLINE`` seconds."""
    start = time.perf_counter()
    port: int | None = None
    with tempfile.TemporaryDirectory() as tmp, open(Path(tmp) / "serve.log", "wb+") as log:
        proc = subprocess.Popen(
            serve_argv(0, journal), stdout=subprocess.DEVNULL, stderr=log, env=os.environ.copy()
        )
        seen: float | None = None
        try:
            while time.perf_counter() < start + START_DEADLINE:
                if proc.poll() is not None:
                    break
                port = port or serving_port(Path(log.name))
                if port is not None:
                    with contextlib.suppress(OSError):  # not answering yet
                        seen = applied(port)
                if seen == expected:
                    return time.perf_counter() - start
                time.sleep(0.02)
        finally:
            proc.terminate()
            proc.wait(30)
        log.seek(0)
        tail = log.read().decode(errors="replace").strip().splitlines()[-3:]
    state = "exited" if proc.returncode not in (None, -15) else "still starting"
    raise RuntimeError(
        f"serve on port {port} ({state}) showed {seen} events applied, expected {expected}, "
        f"after {time.perf_counter() - start:.0f} s; its last lines: {tail}"
    )


def best_start(journal: Path, expected: int, tries: int = 3) -> float:
    """The best of ``tries`` starts, each on a fresh port; a failed start is
    tried once more (another process may have taken the port) before it fails."""
    best = float("inf")
    for _ in range(tries):
        try:
            seconds = time_start(journal, expected)
        except RuntimeError as exc:
            print(f"restart: retrying once: {exc}", file=sys.stderr)
            seconds = time_start(journal, expected)
        best = min(best, seconds)
    return best


def time_stats(journal: Path) -> float:
    """Best of three `hypertool-exporter stats` runs, whole process included."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "hypertool_exporter.cli",
                "stats",
                "--since",
                "month",
                "--journal",
                str(journal),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        best = min(best, time.perf_counter() - start)
    return best


def run(quick: bool = False) -> list[Result]:
    count = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        big, empty = Path(tmp) / "big.sqlite", Path(tmp) / "empty.sqlite"
        Journal(empty).close()
        write_journal(big, count)
        on_disk, as_objects = bytes_per_event(big, count)
        state = MetricState()
        tailer = JournalTailer(state, big)
        tailer.open()
        started = time.perf_counter()
        tailer.catch_up()
        fold_seconds = time.perf_counter() - started
        tailer.snapshot()
        tailer.stop()
        stats_seconds = time_stats(big)
        stats_baseline = time_stats(empty)
        baseline = best_start(empty, 0)
        restart = best_start(big, count)
    per_event_us = fold_seconds / count * 1e6
    return [
        Result(
            f"restart with {count:,} events (snapshot + tail)",
            restart,
            baseline,
            "s",
            f"<= {TARGET_SECONDS:.0f} s",
            restart <= TARGET_SECONDS,
        ),
        Result(
            f"stats --since month over {count:,} events",
            stats_seconds,
            stats_baseline,
            "s",
            "< 1 s",
            stats_seconds < 1.0,
        ),
        Result(
            f"journal file, bytes per event ({count:,} events of four kinds) vs the same "
            "events as JSON objects (text alone)",
            on_disk,
            as_objects,
            "B",
            "<= 60 B",
            on_disk <= 60,
        ),
        Result(
            "journal replay: us per event (no snapshot)",
            per_event_us,
            per_event_us,
            "us",
            f"{1e6 / per_event_us:,.0f} events/s",
            None,
        ),
    ]
