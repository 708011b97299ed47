"""The one way to read the fold: an immutable copy of what readers show.

``MetricState.view()`` takes it under the state's lock, after folding the
waiting batches, so a reader sees every record made before it and never half
an event. A scrape, the status page, a budget check and tests all read
through it; nothing outside ``fold`` reads the state's containers. The
copies are C-level (a dict copy per counter, three list copies per
histogram metric), so a view costs what a scrape's copy cost before.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from ..model.budgets import Budget, PeriodUsage, Standing, standing, unused
from ..model.metricspec import MetricSpec
from ..model.pricing import ResolvedPrice
from .histogram import Frozen, rows_of
from .series import ExemplarKey, FailedGate, LabelKey, RawExemplar

#: The series of a counter the view left out.
_NO_SERIES: Mapping[LabelKey, float] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class HistogramRow:
    """One histogram series as a view shows it."""

    key: LabelKey
    #: Cumulative bucket counts, ``+Inf`` last.
    cumulative: list[int]
    sum: float

    @property
    def count(self) -> int:
        """Observations in all."""
        return self.cumulative[-1]


@dataclass(frozen=True, slots=True)
class StateView:
    """The fold at one moment, ``now``. Its mappings are read-only copies."""

    #: The reader's time (budget periods are picked by it).
    now: float
    #: counter name -> label key -> value.
    counters: Mapping[str, Mapping[LabelKey, float]]
    #: The dollar counters' exact sums in whole femto-dollars (``model.money``).
    money: Mapping[str, Mapping[LabelKey, int]]
    #: histogram name -> its frozen copy (``rows`` gives its rows).
    histograms: Mapping[str, Frozen]
    #: Latest exemplars by (metric, label key, bucket index or -1).
    exemplars: Mapping[ExemplarKey, RawExemplar]
    #: (persona, budget, usage in the period containing ``now``), by persona.
    budgets: tuple[tuple[str, Budget, PeriodUsage], ...]
    #: The budget of a persona not named in the config, if there is one.
    default_budget: Budget | None
    #: Label values folded into the overflow value, by label.
    label_values_folded: Mapping[str, int]
    #: The price each model seen resolves to at ``now``, by model (none when
    #: the view left out the series).
    prices: tuple[tuple[str, ResolvedPrice], ...]
    #: The latest failed gates, newest last.
    recent_failed_gates: tuple[FailedGate, ...]
    #: Whether the GenAI convention metrics are folded.
    genai: bool
    #: session -> (persona, chat mode, since when): where each session is now.
    sessions: Mapping[str, tuple[str, str, float]]
    #: The catalog as served, by name (a histogram's buckets may be the config's).
    specs: Mapping[str, MetricSpec]

    def counter(self, name: str) -> Mapping[LabelKey, float]:
        """The series of counter ``name`` (empty when the view left counters out)."""
        return self.counters.get(name, _NO_SERIES)

    def rows(self, name: str) -> list[tuple[LabelKey, list[int], float]]:
        """(label key, cumulative bucket counts, sum) of each series of histogram ``name``."""
        frozen = self.histograms.get(name)
        return [] if frozen is None else rows_of(frozen)

    def histogram(self, name: str, key: LabelKey) -> HistogramRow | None:
        """The series ``key`` of histogram ``name``; ``None`` when it has none."""
        frozen = self.histograms.get(name)
        if frozen is None or key not in frozen[0]:
            return None
        hists, counts, sums, width = frozen
        slot = hists[key].slot
        cumulative = list(itertools.accumulate(counts[slot * width : (slot + 1) * width]))
        return HistogramRow(key, cumulative, sums[slot])

    def standings(self) -> list[Standing]:
        """Every budgeted persona's standing at ``now``, by persona."""
        return [
            standing(persona, budget, usage, self.now) for persona, budget, usage in self.budgets
        ]

    def standing_of(self, persona: str) -> Standing | None:
        """``persona``'s standing at ``now``; ``None`` when no budget applies."""
        for name, budget, usage in self.budgets:
            if name == persona:
                return standing(persona, budget, usage, self.now)
        default = self.default_budget
        return (
            None
            if default is None
            else standing(persona, default, unused(default, self.now), self.now)
        )


__all__ = ["HistogramRow", "StateView"]
