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
from collections import deque
from collections.abc import Callable
from typing import Any

from ..model import catalog as c
from ..model.budgets import BudgetBook
from ..model.config import Config
from ..model.events import Event, LLMCallFinished, PersonaSwitched, StageFinished, TokensUsed
from ..model.pricing import Price
from .batches import TokenBatch, TokenBatches
from .cardinality import LabelGuard
from .genai import GenAIFold
from .handlers import Handlers
from .histogram import HistogramSeries, freeze_in_pieces, series_from_json
from .persist import MONEY_COUNTERS, counter_series, money_series, sessions_from_json, shaped

#: Failed quality gates remembered for the status page.
RECENT_FAILED_GATES = 20

LabelKey = tuple[str, ...]


class MetricState(Handlers, TokenBatches):
    """All metric values of one exporter, updated only through ``apply`` (the
    handlers of each event class are in ``fold.handlers``)."""

    def __init__(self, config: Config | None = None, clock: Callable[[], float] = time.time):
        self.config = config or Config()
        self.clock = clock
        self.lock = threading.Lock()
        self.prices = self.config.prices
        self.budgets = BudgetBook(self.config.budgets)
        self.guard = LabelGuard(self.config.max_label_values)
        self.counters: dict[str, dict[LabelKey, float]] = {
            spec.name: {} for spec in c.CATALOG if spec.kind == "counter"
        }
        #: The dollar counters' exact sums in whole femto-dollars (``model.money``);
        #: their ``counters`` entries show them as floats.
        self.money: dict[str, dict[LabelKey, int]] = {name: {} for name in MONEY_COUNTERS}
        self.histograms: dict[str, HistogramSeries] = {
            spec.name: HistogramSeries(spec.buckets)
            for spec in c.CATALOG
            if spec.kind == "histogram"
        }
        #: The GenAI convention metrics (``metrics.genai_conventions`` in the config).
        self.genai = GenAIFold(self.histograms, self.guard) if self.config.genai_metrics else None
        #: session -> (persona, chatmode, since)
        self.sessions: dict[str, tuple[str, str, float]] = {}
        #: (metric, label key, bucket index or -1) -> (trace id, value, time): the
        #: latest sample recorded inside a trace, shown as an OpenMetrics exemplar.
        #: Not snapshotted: exemplars point at recent traces only.
        self.exemplars: dict[tuple[str, LabelKey, int], tuple[str, float, float]] = {}
        #: (time, workflow, stage, persona) of the latest failed gates, newest last;
        #: for the status page. Not snapshotted: recent history only.
        self.recent_failed_gates: deque[tuple[Any, ...]] = deque(maxlen=RECENT_FAILED_GATES)
        #: The token hot path's records, per label set (``fold.batches``): a list
        #: extend is atomic, so producers need no lock.
        self.batches: dict[LabelKey, TokenBatch] = {}
        self._clear_plans()
        self._handlers: dict[type, Callable[[Any], None]] = {
            PersonaSwitched: self._persona_switched,
            TokensUsed: self._tokens_used,
            StageFinished: self._stage_finished,
            LLMCallFinished: self._llm_call_finished,
        }
        #: ``apply_all``'s: plain token events join their label set's batch.
        self._run_handlers = {**self._handlers, TokensUsed: self._join_batch}

    # -- the fold ---------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one validated event now (batched records may fold after it:
        ``fold.batches`` says why that changes nothing)."""
        with self.lock:
            self._handlers[type(event)](event)  # called directly: one frame less per event

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

    def drain(self) -> None:
        """Fold the batched records (before a scrape or a snapshot reads state)."""
        if not any(self.batches.values()):
            return
        with self.lock:
            self._fold_batches()

    def set_price(self, model: str, price: Price) -> None:
        """Price ``model`` from now on (``ObservableLLM(cost_per_1k_tokens=...)``)."""
        with self.lock:
            self._fold_batches()  # what was recorded before keeps its old price
            self.prices.override(model, price)
            self._token_plans.clear()

    def reject(self, reason: str) -> None:
        """Count an event that failed validation (``reason`` from REJECT_REASONS)."""
        with self.lock:
            self._inc(c.EVENTS_REJECTED.name, (reason,))

    def count_journal_error(self) -> None:
        """Count a failed journal read or write (the tailer's, or ingest's)."""
        with self.lock:
            self._inc(c.JOURNAL_ERRORS.name, ())

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
        for name in list(self.counters):
            with lock:
                counters[name] = self.counters[name].copy()
        for name in list(self.histograms):
            frozen[name] = freeze_in_pieces(self.histograms[name], lock)
        with lock:
            money = {name: series.copy() for name, series in self.money.items()}
            sessions = self.sessions.copy()
            budgets, guard = self.budgets.to_json(), self.guard.to_json()
        return shaped(counters, money, frozen, sessions, budgets, guard)

    def load_json(self, data: dict[Any, Any]) -> None:
        """Restore state written by ``to_json`` (metrics unknown to this version
        are dropped). It replaces the whole state: records waiting in batches
        are dropped with the rest."""
        with self.lock:
            for batch in self.batches.values():
                batch.clear()
            for name, rows in data.get("counters", {}).items():
                if name in self.counters:
                    self.counters[name] = counter_series(rows)
            self.money = money_series(data.get("money"), self.counters)
            for name, rows in data.get("histograms", {}).items():
                if name in self.histograms:
                    self.histograms[name] = series_from_json(rows, c.BY_NAME[name].buckets)
            self.sessions = sessions_from_json(data.get("sessions", {}))
            self.budgets.load_json(data.get("budgets", {}))
            self.guard.load_json(data.get("guard", {}))
            self._clear_plans()


__all__ = ["RECENT_FAILED_GATES", "LabelKey", "MetricState"]
