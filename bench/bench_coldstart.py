"""``serve``'s cold start: a journal that the CLI or ingest filled before any
``serve`` ran has no snapshot, so the first start replays every event.

Timed from starting the process until ``/metrics`` counts every event applied
(imports, the price database, the replay and the first render all counted),
against a start on an empty journal in the same run. Goals: 1,000,000 events
in 2.5 s, three starts in a row (the slowest is the figure), of four
kinds (split by kind), of token events alone (read by a helper and
``serve`` together) and of instrumented workflow runs (split by kind, with
a trace id on every event), and 10,000,000 in 25 s (``--quick``: 100,000 events,
without a goal of its own, in place of the ten million).

Each start gets its own copy of the journal: ``serve`` snapshots as it stops,
and the next start would restore that instead of replaying.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from bench_restart import best_start, journal_events, token_events, work_events, write_journal
from common import Result, as_installed

from hypertool_exporter.journal.store import Journal

#: (events, goal in seconds or None, starts in a row, what the journal
#: holds) of a full run, and of a quick one. Four kinds are replayed split
#: by kind; token events alone cannot be, and go the other way. Workflow
#: runs (``work_events``: trace ids on every event) are split too, with the
#: costliest token rows.
LOADS = (
    (1_000_000, 2.5, 3, "four kinds"),
    (1_000_000, 2.5, 3, "token events"),
    (1_000_000, 2.5, 3, "workflow runs"),
    (10_000_000, 25.0, 1, "four kinds"),
)
QUICK_LOADS = (
    (100_000, None, 2, "four kinds"),
    (1_000_000, 2.5, 3, "four kinds"),
    (1_000_000, 2.5, 3, "token events"),
    (1_000_000, 2.5, 3, "workflow runs"),
)
_KINDS = {"four kinds": journal_events, "token events": token_events, "workflow runs": work_events}


def _cold_starts(written: Path, events: int, tries: int) -> list[float]:
    """``tries`` starts in a row, each on a fresh copy of ``written``: the
    goal holds for every start (the slowest is the figure), not the luckiest."""
    starts = []
    for n in range(tries):
        copy = written.with_name(f"start-{n}.sqlite")
        shutil.copyfile(written, copy)
        starts.append(best_start(copy, events, tries=1))
        copy.unlink()
    return starts


def run(quick: bool = False) -> list[Result]:
    loads = QUICK_LOADS if quick else LOADS
    as_installed()  # a start compiles nothing, as an installed exporter's does
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.sqlite"
        Journal(empty).close()
        baseline = best_start(empty, 0)
        for events, goal, tries, mix in loads:
            written = Path(tmp) / f"{events}.sqlite"
            write_journal(written, events, kinds=_KINDS[mix])
            starts = _cold_starts(written, events, tries)
            seconds = max(starts)
            written.unlink()
            in_a_row = f", slowest of {tries} in a row" if tries > 1 else ""
            results.append(
                Result(
                    f"serve's cold start on {events:,} events, {mix} (no snapshot{in_a_row}) "
                    "vs an empty journal",
                    seconds,
                    baseline,
                    "s",
                    "" if goal is None else f"<= {goal:g} s",
                    None if goal is None else seconds <= goal,
                    # Here the range of the starts themselves, in seconds.
                    f"{min(starts):.2f}-{seconds:.2f} s" if tries > 1 else "",
                )
            )
    return results
