"""Renders ``MetricState`` as prometheus_client metric families at scrape time.

A custom collector (the client_python pattern for pulled state): nothing is
registered per series, so the fold stays plain dict updates and the scrape
builds fresh families from a consistent copy taken under the state's lock.
"""

from __future__ import annotations

import contextlib
import os
import platform
from collections.abc import Iterator

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

from . import __version__
from . import catalog as c
from .budgets import period_end
from .state import MetricState


def _family(spec: c.MetricSpec) -> Metric:
    labels = list(spec.labels)
    if spec.kind == "counter":
        return CounterMetricFamily(spec.family, spec.help, labels=labels, unit=spec.unit)
    if spec.kind == "gauge":
        return GaugeMetricFamily(spec.family, spec.help, labels=labels, unit=spec.unit)
    if spec.kind == "histogram":
        return HistogramMetricFamily(spec.family, spec.help, labels=labels, unit=spec.unit)
    raise ValueError(f"no plain family for kind {spec.kind!r}")


class StateCollector(Collector):
    """Yields every catalog metric from a ``MetricState``."""

    def __init__(self, state: MetricState):
        self.state = state

    def collect(self) -> Iterator[Metric]:
        state = self.state
        now = state.clock()
        with state.lock:
            counters = {name: list(series.items()) for name, series in state.counters.items()}
            histograms = {
                name: [(k, h.cumulative(), h.sum) for k, h in series.items()]
                for name, series in state.histograms.items()
            }
            budgets = [
                (persona, state.budgets.snapshot_at(persona, now))
                for persona in state.budgets.personas()
            ]
            folded = dict(state.guard.folded)
            journal = state.journal_status
            exemplars = dict(state.exemplars)

        for spec in c.CATALOG:
            if spec.kind == "counter":
                family = _family(spec)
                if spec is c.LABEL_VALUES_FOLDED:
                    rows = [((kind,), float(n)) for kind, n in sorted(folded.items())]
                elif spec is c.JOURNAL_ERRORS:
                    if journal is None:
                        continue
                    rows = [((), dict(counters[spec.name]).get((), 0.0))]
                else:
                    rows = counters[spec.name]
                for key, value in rows:
                    family.add_metric(list(key), value)
                    found = exemplars.get((spec.name, key, -1)) if exemplars else None
                    if found is not None:
                        last = family.samples[-1]
                        family.samples[-1] = Sample(
                            last.name,
                            last.labels,
                            last.value,
                            last.timestamp,
                            Exemplar({"trace_id": found[0]}, found[1], found[2]),
                        )
                yield family
            elif spec.kind == "histogram":
                family = _family(spec)
                bounds = [floatToGoString(b) for b in spec.buckets] + ["+Inf"]
                for key, cumulative, total in histograms[spec.name]:
                    buckets: list = list(zip(bounds, cumulative, strict=True))
                    if exemplars:
                        for index in range(len(buckets)):
                            found = exemplars.get((spec.name, key, index))
                            if found is not None:
                                buckets[index] = (
                                    *buckets[index],
                                    Exemplar({"trace_id": found[0]}, found[1], found[2]),
                                )
                    family.add_metric(list(key), buckets, total)
                yield family
        yield from self._budget_families(budgets, now)
        if journal is not None:
            yield from self._journal_families(journal)
        info = InfoMetricFamily(c.BUILD_INFO.family, c.BUILD_INFO.help)
        info.add_metric([], {"version": __version__, "python_version": platform.python_version()})
        yield info

    @staticmethod
    def _journal_families(journal) -> Iterator[Metric]:
        size = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                size += os.stat(f"{journal.path}{suffix}").st_size
        values = (
            (c.JOURNAL_LAG_EVENTS, journal.lag_events),
            (c.JOURNAL_LAG_SECONDS, journal.lag_seconds),
            (c.JOURNAL_SIZE, size),
            (c.JOURNAL_LAST_SNAPSHOT, journal.last_snapshot),
            (c.JOURNAL_LAST_COMPACTION, journal.last_compaction),
        )
        for spec, value in values:
            family = _family(spec)
            family.add_metric([], float(value))
            yield family

    @staticmethod
    def _budget_families(budgets, now: float) -> Iterator[Metric]:
        families = {
            spec.name: _family(spec)
            for spec in (
                c.BUDGET_LIMIT,
                c.BUDGET_USED,
                c.BUDGET_REMAINING,
                c.BUDGET_RESET,
                c.COST_BUDGET_LIMIT,
                c.COST_BUDGET_USED,
                c.COST_BUDGET_REMAINING,
            )
        }
        for persona, (budget, usage) in budgets:
            period = budget.period
            if budget.tokens is not None:
                families[c.BUDGET_LIMIT.name].add_metric([persona, period], budget.tokens)
                families[c.BUDGET_USED.name].add_metric([persona, period], usage.tokens)
                families[c.BUDGET_REMAINING.name].add_metric(
                    [persona], budget.tokens - usage.tokens
                )
            if budget.usd is not None:
                families[c.COST_BUDGET_LIMIT.name].add_metric([persona, period], budget.usd)
                families[c.COST_BUDGET_USED.name].add_metric([persona, period], usage.usd)
                families[c.COST_BUDGET_REMAINING.name].add_metric([persona], budget.usd - usage.usd)
            end = period_end(now, period)
            if end is not None:
                families[c.BUDGET_RESET.name].add_metric([persona], end - now)
        yield from families.values()
