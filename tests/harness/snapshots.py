"""Fold states compared by what they hold, not by the order their series
were made in (a batch of token records may make its label set's input and
output series in another order than its events one by one would)."""

from __future__ import annotations

from hypertool_exporter.fold.state import MetricState

#: The parts of a snapshot that are lists of series.
SERIES_PARTS = ("counters", "money", "histograms")


def snapshot_of(state: MetricState) -> dict:
    """``state``'s snapshot (``MetricState.to_json()``), each metric's series sorted."""
    return {
        part: {name: sorted(map(repr, rows)) for name, rows in value.items()}
        if part in SERIES_PARTS
        else value
        for part, value in state.to_json().items()
    }
