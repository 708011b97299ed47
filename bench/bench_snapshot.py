"""Snapshots at scale: how long one takes, and how long it holds the state lock
(scrapes and the fold wait that long), at 10,000 to 200,000 series.

A state is filled with token and call series (one in three a histogram), as
``serve``'s collector settings have it (``app.tune_garbage_collector``), then
``MetricState.to_json`` runs three times; the lock is timed from inside. The
baseline of each size is the smallest size's figure scaled linearly, so the
ratio column reads as growth beyond linear (1.00x: linear). The last row is
the exponent of the growth of the lock hold from the smallest to the largest
size (1: linear).
"""

from __future__ import annotations

import gc
import math
import threading
import time

from common import Result

from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.events import LLMCallFinished, TokensUsed

CONFIG = "limits: {max_label_values: 1000000}\n"


class _TimedLock:
    """The state's lock, noting how long each hold lasted."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.holds: list[float] = []
        self._since = 0.0

    def __enter__(self) -> None:
        self._lock.acquire()
        self._since = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.holds.append(time.perf_counter() - self._since)
        self._lock.release()


def _state(series: int) -> MetricState:
    """A state with about ``series`` label sets: each persona and model pair
    makes ten (token, cost, request, error and budget counters; call, token
    and duration histograms)."""
    state = MetricState(parse_config(CONFIG))
    events = []
    for n in range(series // 10):
        persona, model = f"persona-{n % 1000}", f"model-{n // 1000}"
        events.append(TokensUsed(persona, model, 100, 20, "default", 1e9))
        events.append(LLMCallFinished(persona, model, 0.5, None, 1e9))
    state.apply_all(events)
    return state


def _measure(series: int) -> tuple[float, float, int]:
    """(seconds per snapshot, seconds the lock is held, label sets), best of three."""
    state = _state(series)
    lock = _TimedLock()
    state.lock = lock  # type: ignore[assignment]
    total = hold = float("inf")
    for _ in range(3):
        lock.holds.clear()
        start = time.perf_counter()
        state.to_json()
        total = min(total, time.perf_counter() - start)
        hold = min(hold, max(lock.holds))
    view = state.view()
    sets = sum(map(len, view.counters.values())) + sum(len(f[0]) for f in view.histograms.values())
    return total, hold, sets


def run(quick: bool = False) -> list[Result]:
    sizes = (10_000, 50_000, 100_000) if quick else (10_000, 50_000, 100_000, 200_000)
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
    try:
        figures = [_measure(size) for size in sizes]
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    (total0, hold0, sets0), results = figures[0], []
    for total, hold, sets in figures:
        scale = sets / sets0
        results.append(
            Result(
                f"snapshot of {sets:,} series: seconds vs the smallest, scaled linearly",
                total,
                total0 * scale,
                "s",
                "(linear: 1x)",
                None,
            )
        )
        results.append(
            Result(
                f"snapshot of {sets:,} series: state lock held vs the smallest, scaled",
                hold,
                hold0 * scale,
                "s",
                "a few ms",
                hold <= 0.005,
            )
        )
    (_, hold_n, sets_n) = figures[-1]
    exponent = math.log(hold_n / hold0) / math.log(sets_n / sets0)
    results.append(
        Result(
            f"snapshot lock hold: growth exponent, {sets0:,} to {sets_n:,} series",
            exponent,
            1.0,
            "",
            "<= 1.1 (linear)",
            exponent <= 1.1,
        )
    )
    return results
