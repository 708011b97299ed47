"""Histograms of the fold: a metric's series keep their bucket counts and sums
in two flat lists.

Why flat: a scrape and a snapshot need a consistent copy of every series, and
take it under the state lock, which the fold and other scrapes then wait for.
Copying one ``Histogram`` object per series cost about a microsecond each
(tens of milliseconds at 100,000 series); copying a metric's two flat lists
is one C-level slice each. The rows are shaped after the lock is let go, from
the copy (``freeze``, then ``rows_of`` or ``series_to_json``).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any


class HistogramSeries(dict[tuple[str, ...], "Histogram"]):
    """A histogram metric's series, label key -> ``Histogram``; series ``n``'s
    bucket counts (not cumulative; the last is +Inf) are ``counts[n * width:
    (n + 1) * width]`` and its sum ``sums[n]``."""

    __slots__ = ("bounds", "counts", "sums", "width")

    def __init__(self, bounds: tuple[float, ...]):
        super().__init__()
        self.bounds = bounds
        self.width = len(bounds) + 1
        self.counts: list[int] = []
        self.sums: list[float] = []

    def add(self, key: tuple[Any, ...]) -> Histogram:
        """A new, empty series for ``key``."""
        hist = self[key] = Histogram(self, len(self.sums))
        self.counts.extend([0] * self.width)
        self.sums.append(0.0)
        return hist


class Histogram:
    """One series of a ``HistogramSeries``: a view of its place in the flat lists."""

    __slots__ = ("bounds", "counts", "series", "slot", "start", "sums")

    def __init__(self, series: HistogramSeries, slot: int):
        self.series = series
        self.slot = slot
        self.start = slot * series.width
        # The series' lists themselves (they only ever grow in place): the
        # fold observes a million values on a replay, one lookup less each.
        self.bounds, self.counts, self.sums = series.bounds, series.counts, series.sums

    def observe(self, value: float) -> int:
        """Count ``value``; returns the index of its bucket."""
        index = bisect.bisect_left(self.bounds, value)
        self.counts[self.start + index] += 1
        self.sums[self.slot] += value
        return index

    def observe_each(self, values: Sequence[float]) -> None:
        """``observe`` each of ``values``, in order: a float sum depends on
        the order of its terms, so they are added one by one, as ``observe``
        adds them (a run's durations: ``model.runs``)."""
        bounds, counts, start, where = self.bounds, self.counts, self.start, bisect.bisect_left
        total = self.sums[self.slot]
        for value in values:
            counts[start + where(bounds, value)] += 1
            total += value
        self.sums[self.slot] = total

    def observe_all(self, values: Sequence[int]) -> None:
        """Count whole-number ``values`` as ``observe`` would one by one (their
        sum is exact in any grouping; a float sum would not be). The values are
        sorted (C-level, quicker than ``min`` and ``max`` of the same list) and
        fall into the buckets from the smallest value's to the largest's by
        one search per bound between them; values that share a bucket, the
        common case, are counted at once."""
        bounds, counts, start = self.bounds, self.counts, self.start
        ordered = sorted(values)
        low = bisect.bisect_left(bounds, ordered[0])
        high = bisect.bisect_left(bounds, ordered[-1], low)
        below = 0  # values counted so far
        for index in range(low, high):
            upto = bisect.bisect_right(ordered, bounds[index], below)
            counts[start + index] += upto - below
            below = upto
        counts[start + high] += len(ordered) - below
        self.sums[self.slot] += sum(values)

    def bucket_counts(self) -> list[int]:
        """Bucket counts, not cumulative (a copy)."""
        return self.counts[self.start : self.start + self.series.width]

    @property
    def sum(self) -> float:
        return self.sums[self.slot]

    @property
    def count(self) -> int:
        return sum(self.bucket_counts())

    def cumulative(self) -> list[int]:
        return _cumulative(self.bucket_counts())


def _cumulative(counts: list[int]) -> list[int]:
    total, out = 0, []
    for n in counts:
        total += n
        out.append(total)
    return out


def histogram_of(series: HistogramSeries, key: tuple[Any, ...]) -> Histogram:
    """The histogram of ``key`` in ``series``, created (empty) on first use."""
    hist = series.get(key)
    if hist is None:
        hist = series.add(key)
    return hist


#: A consistent copy of a ``HistogramSeries``: (key -> Histogram, counts, sums, width).
Frozen = tuple[dict[Any, Any], list[Any], list[Any], int]


def freeze(series: HistogramSeries) -> Frozen:
    """Copy ``series`` (under the state lock): three C-level copies, whatever its size."""
    return dict(series), series.counts[:], series.sums[:], series.width


#: Bucket counts copied per hold of the lock by ``freeze_in_pieces``.
PIECE = 1 << 16


def freeze_in_pieces(series: HistogramSeries, lock: AbstractContextManager[Any]) -> Frozen:
    """``freeze``, holding ``lock`` for at most ``PIECE`` bucket counts at a
    time, so that others wait for a piece, not for the whole metric. Only for
    the thread that is the series' one writer (the tailer, whose snapshots
    these are): nothing changes between the pieces."""
    with lock:
        hists, sums, width = dict(series), series.sums[:], series.width
    counts: list[int] = []
    for start in range(0, len(sums) * width, PIECE):
        with lock:
            counts += series.counts[start : start + PIECE]
    return hists, counts, sums, width


def rows_of(frozen: Frozen) -> list[tuple[tuple[Any, ...], list[int], float]]:
    """(key, cumulative bucket counts, sum) of each series of a frozen copy."""
    hists, counts, sums, width = frozen
    return [
        (key, _cumulative(counts[h.start : h.start + width]), sums[h.slot])
        for key, h in hists.items()
    ]


def series_to_json(frozen: Frozen) -> list[Any]:
    """A frozen copy as snapshot JSON: (labels, counts, sum) each."""
    hists, counts, sums, width = frozen
    return [(key, counts[h.start : h.start + width], sums[h.slot]) for key, h in hists.items()]


def series_from_json(rows: list[Any], bounds: tuple[float, ...]) -> HistogramSeries:
    """Series written by ``series_to_json``; a series saved with other buckets
    restarts empty (its bucket layout changed between versions)."""
    series = HistogramSeries(bounds)
    for key, counts, total in rows:
        hist = series.add(tuple(key))
        if len(counts) == series.width:
            series.counts[hist.start : hist.start + series.width] = [int(n) for n in counts]
            series.sums[hist.slot] = float(total)
    return series


__all__ = [
    "Frozen",
    "Histogram",
    "HistogramSeries",
    "freeze",
    "freeze_in_pieces",
    "histogram_of",
    "rows_of",
    "series_from_json",
    "series_to_json",
]
