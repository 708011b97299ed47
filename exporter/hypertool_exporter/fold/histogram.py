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


__all__ = ["Histogram", "histogram_of"]
