"""A consistent view of ``MetricState`` at scrape time, and its prometheus_client form.

``take_snapshot`` copies everything a scrape shows under the state's lock
(after folding queued events) into plain rows per catalog metric. Two
renderers read those rows: ``StateCollector`` (a prometheus_client custom
collector, for any registry and encoder) and ``textformat.StateRenderer``
(the fast text path that ``/metrics`` uses).
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Collection, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from prometheus_client.samples import Exemplar, Sample
from prometheus_client.utils import floatToGoString

from .._version import __version__
from ..fold.state import MetricState
from ..fold.view import StateView
from ..model import catalog as c
from ..model.budgets import period_end
from ..model.pricing import SOURCE_INSTRUMENTATION, SOURCE_NONE
from ..sync.status import JournalStatus

#: An exemplar as stored in the state: (trace id, value, time).
RawExemplar = tuple[str, float, float]

#: A bucket bound as Prometheus writes it (``0.5``, ``1.0``, ``+Inf``); typed
#: here because prometheus_client's is not.
go_float: Callable[[float], str] = floatToGoString


@dataclass
class Family:
    """One metric's rows: counters and gauges (key, value); histograms (key,
    cumulative bucket counts, sum). ``exemplars`` maps a counter's key, or a
    histogram's (key, bucket index), to its latest exemplar."""

    spec: c.MetricSpec
    #: A counter's rows are its view's items, not copied again.
    rows: Collection[Any] = field(default_factory=list)
    exemplars: dict[Any, Any] = field(default_factory=dict)

    def add(self, row: tuple[Any, ...]) -> None:
        """Add a row to a family built here (its rows a list)."""
        cast("list[Any]", self.rows).append(row)


def take_snapshot(state: MetricState, journal: JournalStatus | None = None) -> list[Family]:
    """Every family a scrape shows, in catalog order, from one consistent copy.

    ``journal`` is the status of the tailer that follows a journal into
    ``state``; without one, the journal metrics are left out.
    """
    view = state.view()
    now = view.now
    families: dict[str, Family] = {spec.name: Family(view.specs[spec.name]) for spec in c.CATALOG}
    for name, series in view.counters.items():
        spec = c.BY_NAME[name]
        if spec is c.JOURNAL_ERRORS:
            if journal is not None:
                families[name].rows = [((), series.get((), 0.0))]
            continue
        families[name].rows = series.items()
    families[c.LABEL_VALUES_FOLDED.name].rows = [
        ((kind,), float(n)) for kind, n in sorted(view.label_values_folded.items())
    ]
    for name in view.histograms:
        families[name].rows = view.rows(name)
    for (name, key, index), raw in view.exemplars.items():
        family = families[name]
        family.exemplars[key if index < 0 else (key, index)] = raw
    for persona, budget, usage in view.budgets:
        period = budget.period
        if budget.tokens is not None:
            families[c.BUDGET_USED.name].add(((persona, period), usage.tokens))
            if budget.scope == "fleet":  # limit and remaining are the fleet's: rules add up
                families[c.FLEET_BUDGET_LIMIT.name].add(((persona, period), budget.tokens))
            else:
                families[c.BUDGET_LIMIT.name].add(((persona, period), budget.tokens))
                families[c.BUDGET_REMAINING.name].add(((persona,), budget.tokens - usage.tokens))
        if budget.usd is not None:
            families[c.COST_BUDGET_USED.name].add(((persona, period), usage.usd))
            if budget.scope == "fleet":  # as for tokens: the rules add the fleet's spend up
                families[c.FLEET_COST_BUDGET_LIMIT.name].add(((persona, period), budget.usd))
            else:
                families[c.COST_BUDGET_LIMIT.name].add(((persona, period), budget.usd))
                families[c.COST_BUDGET_REMAINING.name].add(((persona,), budget.usd - usage.usd))
        end = period_end(now, period)
        if end is not None:
            families[c.BUDGET_RESET.name].add(((persona,), end - now))
    left_out = {spec.name for spec in c.JOURNAL_METRICS} - {c.JOURNAL_ERRORS.name}
    if journal is not None:
        left_out = set()
    if not view.genai:  # metrics.genai_conventions: false
        left_out |= {spec.name for spec in c.GENAI_METRICS}
    if journal is not None:
        for spec, value in (
            (c.JOURNAL_UP, 1.0 if journal.up else 0.0),
            (c.JOURNAL_LAG_EVENTS, journal.lag_events),
            (c.JOURNAL_LAG_SECONDS, journal.lag_seconds),
            (c.JOURNAL_SIZE, journal.size_bytes),
            (c.JOURNAL_LAST_SNAPSHOT, journal.last_snapshot),
            (c.JOURNAL_LAST_COMPACTION, journal.last_compaction),
        ):
            families[spec.name].rows = [((), float(value))]
    families[c.BUILD_INFO.name].rows = [((__version__, platform.python_version()), 1.0)]
    _price_rows(families, view)
    return [families[spec.name] for spec in c.CATALOG if spec.name not in left_out]


def _price_rows(families: dict[str, Family], view: StateView) -> None:
    """Where each model seen gets its price now, and the age of the price data."""
    info = families[c.MODEL_PRICE_INFO.name]
    newest_data: float | None = None
    reported = view.money.get(c.PERSONA_REPORTED_COST.name, {})
    estimated = {key[2] for key in reported if key[3] == SOURCE_INSTRUMENTATION}
    for model, resolved in view.prices:
        date = ""
        if resolved.data_timestamp is not None:
            date = datetime.fromtimestamp(resolved.data_timestamp, UTC).date().isoformat()
            newest_data = max(newest_data or 0.0, resolved.data_timestamp)
        source = resolved.source
        if source == SOURCE_NONE and model in estimated:
            source = SOURCE_INSTRUMENTATION
        info.add(((model, source, date), 1.0))
    if newest_data is not None:
        families[c.PRICE_DATA_TIMESTAMP.name].rows = [((), newest_data)]


def _exemplar(raw: RawExemplar | None) -> Exemplar | None:
    if raw is None:
        return None
    return Exemplar({"trace_id": raw[0]}, raw[1], raw[2])


def to_metric(family: Family) -> Metric:
    """The prometheus_client form of one family."""
    spec = family.spec
    labels = list(spec.labels)
    if spec.kind == "info":
        info = InfoMetricFamily(spec.family, spec.help, labels=[])
        for key, _value in family.rows:
            info.add_metric([], dict(zip(spec.labels, key, strict=True)))
        return info
    if spec.kind == "histogram":
        histogram = HistogramMetricFamily(spec.family, spec.help, labels=labels, unit=spec.unit)
        bounds = [go_float(b) for b in spec.buckets] + ["+Inf"]
        exemplars = family.exemplars
        for key, cumulative, total in family.rows:
            buckets: list[Any] = list(zip(bounds, cumulative, strict=True))
            if exemplars:
                for index in range(len(buckets)):
                    raw = exemplars.get((key, index))
                    if raw is not None:
                        buckets[index] = (*buckets[index], _exemplar(raw))
            histogram.add_metric(list(key), buckets, total)
        return histogram
    cls = CounterMetricFamily if spec.kind == "counter" else GaugeMetricFamily
    metric = cls(spec.family, spec.help, labels=labels, unit=spec.unit)
    exemplars = family.exemplars
    for key, value in family.rows:
        metric.add_metric(list(key), value)
        raw = exemplars.get(key) if exemplars else None
        if raw is not None:
            last = metric.samples[-1]
            metric.samples[-1] = Sample(
                last.name, last.labels, last.value, last.timestamp, _exemplar(raw)
            )
    return metric


#: The ``StateCollector`` whose families are being rendered by another path
#: (``textformat.FastExposition``) in the current context, so that rendering
#: the rest of its registry through prometheus_client's public encoders does
#: not render them twice.
rendered_elsewhere: ContextVar[object | None] = ContextVar("rendered_elsewhere", default=None)


class StateCollector(Collector):
    """Yields every catalog metric from a ``MetricState`` (prometheus_client's way)."""

    def __init__(self, state: MetricState, journal: JournalStatus | None = None):
        self.state = state
        self.journal = journal

    def collect(self) -> Iterator[Metric]:
        """Fresh metric families from one snapshot of the state (custom-collector style)."""
        if rendered_elsewhere.get() is self:
            return
        for family in take_snapshot(self.state, self.journal):
            yield to_metric(family)


__all__ = ["Family", "StateCollector", "rendered_elsewhere", "take_snapshot", "to_metric"]
