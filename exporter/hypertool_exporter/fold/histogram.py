"""``Histogram``: the fold's bucket counts for one series."""

from __future__ import annotations

import bisect


class Histogram:
    """Bucket counts (not cumulative; the last one is +Inf), sum and count."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]):
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> int:
        """Count ``value``; returns the index of its bucket."""
        index = bisect.bisect_left(self.bounds, value)
        self.counts[index] += 1
        self.sum += value
        return index

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[int]:
        total, out = 0, []
        for n in self.counts:
            total += n
            out.append(total)
        return out


def histogram_of(series: dict, key: tuple, bounds: tuple[float, ...]) -> Histogram:
    """The histogram of ``key`` in ``series``, created (empty) on first use."""
    hist = series.get(key)
    if hist is None:
        hist = series[key] = Histogram(bounds)
    return hist


def series_to_json(series: dict[tuple, Histogram]) -> list:
    """A histogram metric's series as snapshot JSON, (labels, counts, sum)
    each: a copy, which the fold may go on changing."""
    return [(key, hist.counts[:], hist.sum) for key, hist in series.items()]


def series_from_json(rows: list, bounds: tuple[float, ...]) -> dict[tuple, Histogram]:
    """Series written by ``series_to_json``; a series saved with other buckets
    restarts empty (its bucket layout changed between versions)."""
    series: dict[tuple, Histogram] = {}
    for key, counts, total in rows:
        hist = Histogram(bounds)
        if len(counts) == len(hist.counts):
            hist.counts = [int(n) for n in counts]
            hist.sum = float(total)
        series[tuple(key)] = hist
    return series


__all__ = ["Histogram", "histogram_of", "series_from_json", "series_to_json"]
