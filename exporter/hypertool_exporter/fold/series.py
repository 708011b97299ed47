"""Every value the fold keeps, in plain containers keyed by label tuples.

One object holds them so that the parts of the fold (``handlers``,
``batches``) share the containers by holding it, not by being mixed into one
class, and so that a restore replaces its contents in one place.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Mapping

from ..model import catalog as c
from ..model.money import FEMTO_PER_USD
from .histogram import HistogramSeries
from .persist import MONEY_COUNTERS

#: Failed quality gates remembered for the status page.
RECENT_FAILED_GATES = 20

LabelKey = tuple[str, ...]
#: An exemplar as kept: (trace id, value, time).
RawExemplar = tuple[str, float, float]
#: Where an exemplar belongs: (metric, label key, bucket index or -1).
ExemplarKey = tuple[str, LabelKey, int]
#: A failed gate as kept: (time, workflow, stage, persona).
FailedGate = tuple[float, str, str, str]


class Series:
    """The fold's containers. Written only under the state's lock."""

    __slots__ = (
        "counters",
        "exemplars",
        "failing_since",
        "histograms",
        "money",
        "recent_failed_gates",
        "sessions",
    )

    def __init__(self, specs: Mapping[str, c.MetricSpec] | None = None) -> None:
        """``specs``: the catalog as this state serves it (its histograms'
        buckets may be the config's; default: the catalog's)."""
        specs = specs or c.BY_NAME
        self.counters: dict[str, dict[LabelKey, float]] = {
            spec.name: {} for spec in c.CATALOG if spec.kind == "counter"
        }
        #: The dollar counters' exact sums in whole femto-dollars (``model.money``);
        #: their ``counters`` entries show them as floats.
        self.money: dict[str, dict[LabelKey, int]] = {name: {} for name in MONEY_COUNTERS}
        self.histograms: dict[str, HistogramSeries] = {
            spec.name: HistogramSeries(specs[spec.name].buckets)
            for spec in c.CATALOG
            if spec.kind == "histogram"
        }
        #: session -> (persona, chatmode, since)
        #: Where each session is (persona, chat mode, since), least recently
        #: switched first: an OrderedDict, whose oldest entry goes in O(1)
        #: (a dict's front fills with deleted slots that ``next(iter())`` walks).
        self.sessions: OrderedDict[str, tuple[str, str, float]] = OrderedDict()
        #: workflow -> end of its first failed run since its last successful
        #: one: the start of a recovery (``hypertool_workflow_recovery_seconds``).
        self.failing_since: dict[str, float] = {}
        #: The latest sample recorded inside a trace, shown as an OpenMetrics
        #: exemplar. Not snapshotted: exemplars point at recent traces only.
        self.exemplars: dict[ExemplarKey, RawExemplar] = {}
        #: The latest failed gates, newest last; for the status page. Not
        #: snapshotted: recent history only.
        self.recent_failed_gates: deque[FailedGate] = deque(maxlen=RECENT_FAILED_GATES)

    def inc(self, name: str, key: LabelKey, by: float = 1.0) -> None:
        """Count ``by`` (one) in a counter (the rarer ones; the hot ones are counted inline)."""
        series = self.counters[name]
        series[key] = series.get(key, 0.0) + by

    def add_money(self, name: str, key: LabelKey, femto: int) -> None:
        """Add ``femto`` to a dollar counter: its exact sum, and the float shown."""
        exact = self.money[name]
        total = exact[key] = exact.get(key, 0) + femto
        self.counters[name][key] = total / FEMTO_PER_USD


__all__ = [
    "RECENT_FAILED_GATES",
    "ExemplarKey",
    "FailedGate",
    "LabelKey",
    "RawExemplar",
    "Series",
]
