"""``serve``'s cold start: a journal that the CLI or ingest filled before any
``serve`` ran has no snapshot, so the first start replays every event.

Timed from starting the process until ``/metrics`` counts every event applied
(imports, the price database, the replay and the first render all counted),
against a start on an empty journal in the same run. Goals: 1,000,000 events
in 3 s, 10,000,000 in 30 s (``--quick``: 100,000 events, without a goal of
its own, and 1,000,000 in place of the ten million).

Each start gets its own copy of the journal: ``serve`` snapshots as it stops,
and the next start would restore that instead of replaying.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bench_restart import best_start, write_journal
from common import Result

from hypertool_exporter.journal.store import Journal

#: (events, goal in seconds or None) of a full run, and of a quick one.
LOADS = ((1_000_000, 3.0), (10_000_000, 30.0))
QUICK_LOADS = ((100_000, None), (1_000_000, 3.0))


def _cold_start(written: Path, events: int, tries: int) -> float:
    """The best of ``tries`` starts, each on a fresh copy of ``written``."""
    best = float("inf")
    for n in range(tries):
        copy = written.with_name(f"start-{n}.sqlite")
        shutil.copyfile(written, copy)
        best = min(best, best_start(copy, events, tries=1))
        copy.unlink()
    return best


def run(quick: bool = False) -> list[Result]:
    loads = QUICK_LOADS if quick else LOADS
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.sqlite"
        Journal(empty).close()
        baseline = best_start(empty, 0)
        for events, goal in loads:
            written = Path(tmp) / f"{events}.sqlite"
            write_journal(written, events)
            seconds = _cold_start(written, events, tries=1 if events > 1_000_000 else 2)
            written.unlink()
            results.append(
                Result(
                    f"serve's cold start on {events:,} events (no snapshot) vs an empty journal",
                    seconds,
                    baseline,
                    "s",
                    "" if goal is None else f"<= {goal:g} s",
                    None if goal is None else seconds <= goal,
                )
            )
    return results
