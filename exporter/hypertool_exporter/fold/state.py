"""The one fold: validated events in, metric and budget state out.

Every producer ends here through one of two doors that lead to the same
handlers: ``apply(event)`` and ``apply_all(events)`` fold now (the in-process
API, the journal tailer), and the in-process token hot path adds its records
to its label set's batch (``fold.batches``), which costs the caller one list
extend and is folded a batch at a time; ``apply_all`` lets plain token
events join those batches too. A scrape or a snapshot drains the batches
first, so it sees every record made before it. A restart is a replay, and
tests can feed events directly.
State is plain Python containers keyed by label tuples; ``exposition`` renders
it at scrape time. A lock keeps a scrape from seeing half an event.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from ..model import catalog as c
from ..model.budgets import BudgetBook
from ..model.config import Config
from ..model.events import Event, TokensUsed
from ..model.pricing import Price
from ..model.runs import Run
from .batches import TokenBatches
from .cardinality import LabelGuard
from .genai import GenAIFold
from .handlers import Handlers
from .histogram import freeze, freeze_in_pieces, series_from_json
from .persist import counter_series, money_series, sessions_from_json, shaped
from .series import Series
from .view import StateView


class MetricState:
    """All metric values of one exporter: changed only through ``apply``,
    ``apply_all`` and the token batches, read only through ``view``. Its
    parts: ``series`` (the containers), ``handlers`` (what each event class
    changes) and ``batches`` (the token hot path's door)."""

    def __init__(self, config: Config | None = None, clock: Callable[[], float] = time.time):
        self.config = config or Config()
        self.clock = clock
        self.lock = threading.Lock()
        self.prices = self.config.prices
        self._budgets = BudgetBook(self.config.budgets)
        self._guard = LabelGuard(self.config.max_label_values)
        #: The catalog as this state serves it: the config's buckets where it sets them.
        self.specs = served_specs(self.config)
        self._series = Series(self.specs)
        #: The GenAI convention metrics (``metrics.genai_conventions`` in the config).
        genai = (
            GenAIFold(self._series.histograms, self._guard) if self.config.genai_metrics else None
        )
        self.handlers = Handlers(self._series, self._guard, self._budgets, self.prices, genai)
        #: The token hot path's records, per label set (``fold.batches``).
        self.batches = TokenBatches(self.handlers, self.lock)
        self._by_type = self.handlers.by_type
        #: ``apply_all``'s: plain token events join their label set's batch.
        self._run_handlers: dict[type, Callable[[Any], None]] = {
            **self._by_type,
            TokensUsed: self.batches.join,
        }

    # -- the fold ---------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one validated event now (batched records may fold after it:
        ``fold.batches`` says why that changes nothing)."""
        with self.lock:
            self._by_type[type(event)](event)  # called directly: one frame less per event

    def apply_all(self, events: list[Event]) -> None:
        """Fold ``events`` in order under one hold of the lock: a scrape sees all
        or none (the tailer keeps the lists short: a wait of milliseconds).
        Plain token events after their label set's first join its batch
        (``fold.batches``), as the hot path's records do: the journal's most
        frequent event, added up a label set at a time, to exactly the state
        of folding each."""
        handlers = self._run_handlers
        with self.lock:
            for event in events:
                handlers[type(event)](event)

    def apply_runs(self, runs: Iterable[Run]) -> None:
        """Fold runs of records (``model.runs``) as ``apply_all``
        folds the events they stand for, a run at a time
        (``TokenBatches.join_run``)."""
        with self.lock:
            for labels, run in runs:
                self.batches.join_run(labels, run)

    def drain(self) -> None:
        """Fold the batched records (before a snapshot reads state)."""
        if not self.batches.pending():
            return
        with self.lock:
            self.batches.fold_all()

    def set_price(self, model: str, price: Price) -> None:
        """Price ``model`` from now on (``ObservableLLM(cost_per_1k_tokens=...)``)."""
        with self.lock:
            self.batches.fold_all()  # what was recorded before keeps its old price
            self.prices.override(model, price)
            self.handlers.token_plans.clear()

    def reject(self, reason: str) -> None:
        """Count an event that failed validation (``reason`` from REJECT_REASONS)."""
        with self.lock:
            self._series.inc(c.EVENTS_REJECTED.name, (reason,))

    def count_journal_error(self) -> None:
        """Count a failed journal read or write (the tailer's, or ingest's)."""
        with self.lock:
            self._series.inc(c.JOURNAL_ERRORS.name, ())

    # -- reading ------------------------------------------------------------

    def view(self, now: float | None = None, *, series: bool = True) -> StateView:
        """The state as of now (every batched record folded first), as an
        immutable copy; budget periods are those containing ``now`` (default:
        the state's clock). ``series=False`` leaves out the counters,
        histograms, exemplars and the models' prices, for a reader that needs
        only the budgets and the recent gates (a budget check, made before
        every enforced LLM call: no copy of every series, no price lookups)."""
        self.drain()
        if now is None:
            now = self.clock()
        values, budgets, guard = self._series, self._budgets, self._guard
        with self.lock:
            if series:
                counters = {name: MappingProxyType(dict(s)) for name, s in values.counters.items()}
                histograms = {name: freeze(s) for name, s in values.histograms.items()}
                exemplars = dict(values.exemplars)
                money = {name: MappingProxyType(dict(s)) for name, s in values.money.items()}
            else:
                counters, histograms, exemplars, money = {}, {}, {}, {}
            standing: list[Any] = []
            for persona in budgets.personas():
                found = budgets.snapshot_at(persona, now)
                if found is not None:
                    standing.append((persona, *found))
            folded = dict(guard.folded)
            models = sorted(guard.seen["model"]) if series else []
            gates = tuple(values.recent_failed_gates)
            sessions = dict(values.sessions)
        prices = tuple((model, self.prices.resolve(model, now)) for model in models)
        return StateView(
            now=now,
            counters=MappingProxyType(counters),
            money=MappingProxyType(money),
            histograms=MappingProxyType(histograms),
            exemplars=MappingProxyType(exemplars),
            budgets=tuple(standing),
            default_budget=budgets.budget_for("default"),
            label_values_folded=MappingProxyType(folded),
            prices=prices,
            recent_failed_gates=gates,
            genai=self.handlers.genai is not None,
            sessions=MappingProxyType(sessions),
            specs=MappingProxyType(self.specs),
        )

    # -- snapshots ----------------------------------------------------------

    def to_json(self) -> dict[Any, Any]:
        """All state as JSON-ready data, for journal snapshots: only C-level
        copies are made under the lock, shaped after it (``fold.persist``),
        and each counter and each piece of a histogram's counts is copied under a
        hold of its own, so a scrape or the ingest waits for one piece, not
        for all of them.

        The copy is still the state at one point of the journal: snapshots are
        taken by the thread that folds the journal (the tailer), so nothing of
        the journal's is folded between the holds; what other threads change
        meanwhile (rejected events, journal errors) are counters of their own."""
        self.drain()
        lock = self.lock
        counters, frozen = {}, {}
        values = self._series
        for name in list(values.counters):
            with lock:
                counters[name] = values.counters[name].copy()
        for name in list(values.histograms):
            frozen[name] = freeze_in_pieces(values.histograms[name], lock)
        with lock:
            money = {name: series.copy() for name, series in values.money.items()}
            sessions = values.sessions.copy()
            failing = dict(values.failing_since)
            budgets, guard = self._budgets.to_json(), self._guard.to_json()
        return shaped(counters, money, frozen, sessions, budgets, guard, failing)

    def load_json(self, data: dict[Any, Any]) -> None:
        """Restore state written by ``to_json`` (metrics unknown to this version
        are dropped). It replaces the whole state: records waiting in batches
        are dropped with the rest."""
        with self.lock:
            self._load(data)

    def _load(self, data: dict[Any, Any]) -> None:
        """``load_json``'s work, under the lock."""
        values = self._series
        self.batches.clear()
        for name, rows in data.get("counters", {}).items():
            if name in values.counters:
                values.counters[name] = counter_series(rows, len(c.BY_NAME[name].labels))
        values.money = money_series(data.get("money"), values.counters)
        for name, rows in data.get("histograms", {}).items():
            if name in values.histograms:
                values.histograms[name] = series_from_json(rows, self.specs[name].buckets)
        values.sessions = sessions_from_json(data.get("sessions", {}))
        values.failing_since = {
            str(k): float(v) for k, v in (data.get("failing_since") or {}).items()
        }
        self._budgets.load_json(data.get("budgets", {}))
        self._guard.load_json(data.get("guard", {}))
        self.handlers.clear_plans()

    # -- a split replay -------------------------------------------------------

    def transient(self) -> tuple[dict[Any, Any], list[Any]]:
        """The exemplars and the recent failed gates: what snapshots leave out
        (recent history only), which a split replay carries across."""
        with self.lock:
            return dict(self._series.exemplars), list(self._series.recent_failed_gates)

    def adopt(
        self,
        base: dict[Any, Any],
        replayed: dict[Any, Any],
        transient: tuple[dict[Any, Any], list[Any]],
    ) -> None:
        """Become ``replayed`` (``to_json`` of ``base`` with a replay's rows
        folded, and its ``transient``), keeping what other threads counted
        since ``base`` was taken: while the tailer holds the fold, they only
        count rejected events and journal errors (``reject``,
        ``count_journal_error``), and those counts are carried over."""
        replayed = {**replayed, "counters": dict(replayed["counters"])}
        with self.lock:
            for name in (c.EVENTS_REJECTED.name, c.JOURNAL_ERRORS.name):
                before = dict(base["counters"].get(name, ()))
                counted = dict(replayed["counters"].get(name, ()))
                for key, value in self._series.counters[name].items():
                    counted[key] = counted.get(key, 0.0) + value - before.get(key, 0.0)
                replayed["counters"][name] = list(counted.items())
            self._load(replayed)
            exemplars, gates = transient
            self._series.exemplars.clear()
            self._series.exemplars.update(exemplars)
            self._series.recent_failed_gates.clear()
            self._series.recent_failed_gates.extend(gates)


def served_specs(config: Config) -> dict[str, c.MetricSpec]:
    """The catalog by name, with the config's quality-score buckets (a
    histogram restored from a snapshot taken with other buckets restarts)."""
    specs = dict(c.BY_NAME)
    if config.quality_score_buckets:
        specs[c.QUALITY_SCORE.name] = replace(c.QUALITY_SCORE, buckets=config.quality_score_buckets)
    return specs


__all__ = ["MetricState", "served_specs"]
