"""The fold's state as snapshot JSON, shaped from copies taken under the lock.

``MetricState.to_json`` copies under the state lock with C-level copies only
(each counter's dict, each histogram metric's flat lists, a piece at a time:
``histogram.freeze_in_pieces``) and hands them here, after the lock is let
go, to be shaped into JSON-ready
rows (arrays as tuples, which orjson writes as arrays). Shaping 200,000
series makes as many small tuples; the cyclic collector, which would walk the
whole heap again and again meanwhile, is paused for it, which keeps the time
in proportion to the series.
"""

from __future__ import annotations

import contextlib
import gc
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from ..model import catalog as c
from ..model.money import femto_at_least, usd_of
from ..model.pricing import SOURCE_PROVIDER
from .histogram import Frozen, series_to_json

#: Counters of dollars, kept exactly as whole femto-dollars (``model.money``).
MONEY_COUNTERS = (c.PERSONA_COST.name, c.PERSONA_REPORTED_COST.name, c.WORKFLOW_COST.name)
#: The values a snapshot's series take for labels added since it was written,
#: by what the series meant then: every reported cost was the provider's.
ADDED_LABEL_VALUES = {c.PERSONA_REPORTED_COST.name: (SOURCE_PROVIDER,)}


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection inside (it resumes after, if it ran before)."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()


def shaped(
    counters: dict[str, dict[Any, Any]],
    money: dict[str, dict[Any, Any]],
    histograms: dict[str, Frozen],
    sessions: dict[str, tuple[Any, ...]],
    budgets: dict[Any, Any],
    guard: dict[Any, Any],
    failing_since: dict[str, float],
) -> dict[Any, Any]:
    """The snapshot JSON of copies of the state's parts."""
    with collector_paused():
        return {
            "counters": {name: list(series.items()) for name, series in counters.items()},
            # As decimal text: a sum past $9,223 is past JSON's 64-bit integers.
            "money": {
                name: [(key, str(value)) for key, value in series.items()]
                for name, series in money.items()
            },
            "histograms": {name: series_to_json(f) for name, f in histograms.items()},
            "sessions": {s: list(v) for s, v in sessions.items()},
            "budgets": budgets,
            "guard": guard,
            "failing_since": failing_since,
        }


def counter_series(rows: list[Any], width: int) -> dict[tuple[Any, ...], float]:
    """A counter's series from its snapshot rows, for a counter of ``width``
    labels. A row written when the counter had fewer labels (a label was
    added since: the gate counter's ``persona``) gets empty values for the
    new ones, which Prometheus reads as the label absent: the counts stay,
    and sums over the old labels are unchanged. A row with more is dropped."""
    series = {}
    for key, value in rows:
        if len(key) <= width:
            series[(*key, *("",) * (width - len(key)))] = float(value)
    return series


def money_series(
    rows: dict[Any, Any] | None, counters: dict[str, dict[Any, Any]]
) -> dict[str, dict[tuple[Any, ...], int]]:
    """The dollar counters' exact sums from their snapshot rows, and their
    ``counters`` entries set to show them. A snapshot written before exact
    sums has only the floats: each becomes the fewest femto-dollars that show
    as at least it (a counter never comes back lower: that would be a reset)."""
    money: dict[str, dict[tuple[Any, ...], int]] = {}
    for name in MONEY_COUNTERS:
        if rows is None:
            exact = {key: femto_at_least(value) for key, value in counters[name].items()}
        else:
            exact = {tuple(key): int(value) for key, value in rows.get(name, ())}
        width = len(c.BY_NAME[name].labels)
        fill = ADDED_LABEL_VALUES.get(name, ())
        if any(len(key) < width for key in exact):  # written before a label was added
            exact = {
                (*key, *fill[len(key) - width :]) if len(key) < width else key: value
                for key, value in exact.items()
            }
        money[name] = exact
        counters[name] = {key: usd_of(value) for key, value in exact.items()}
    return money


def sessions_from_json(data: dict[Any, Any]) -> OrderedDict[str, tuple[str, str, float]]:
    """Sessions (persona, chat mode, since) from their snapshot rows, in their order."""
    return OrderedDict((s, (str(v[0]), str(v[1]), float(v[2]))) for s, v in data.items())


__all__ = [
    "MONEY_COUNTERS",
    "collector_paused",
    "counter_series",
    "money_series",
    "sessions_from_json",
    "shaped",
]
