"""The one fold: validated events in, metric and budget state out.

Every producer ends here through one of two doors that lead to the same
handler table (one handler per event type): ``apply(event)`` folds now (the
journal tailer, the in-process API), ``enqueue(event)`` queues an event for the
next ``drain`` (the in-process token hot path, which then costs the caller one
deque append). A scrape or a snapshot drains first, so it sees every event
recorded before it. A restart is a replay, and tests can feed events directly.
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
from ..model.fields import FAILED, GATE_RESULTS, MAX_SECONDS, NO_PERSONA, TOKEN_TYPES
from ..model.pricing import Price
from .cardinality import LabelGuard
from .genai import GenAIFold
from .histogram import HistogramSeries, freeze, histogram_of, series_from_json
from .persist import counter_series, sessions_from_json, shaped

#: Sessions tracked for persona durations; the oldest is forgotten past this.
MAX_SESSIONS = 10_000
#: Label combinations whose fold plan is cached (the label caps bound them anyway).
MAX_CACHED_PLANS = 20_000
#: Failed quality gates remembered for the status page.
RECENT_FAILED_GATES = 20
#: Queued events past which the producer should ``drain`` (bounds memory between scrapes).
MAX_QUEUED = 50_000
_TOKENS_APPLIED = (TokensUsed.TYPE,)

LabelKey = tuple[str, ...]


class MetricState:
    """All metric values of one exporter, updated only through ``apply``."""

    def __init__(self, config: Config | None = None, clock: Callable[[], float] = time.time):
        self.config = config or Config()
        self.clock = clock
        self.lock = threading.Lock()
        self.prices = self.config.prices
        self.budgets = BudgetBook(self.config.budgets, clock)
        self.guard = LabelGuard(self.config.max_label_values)
        self.counters: dict[str, dict[LabelKey, float]] = {
            spec.name: {} for spec in c.CATALOG if spec.kind == "counter"
        }
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
        self._token_plans: dict[tuple, tuple] = {}
        #: (persona, model, operation, provider, error type) -> series of a call.
        self._call_plans: dict[tuple, tuple] = {}
        #: (time, workflow, stage, persona) of the latest failed gates, newest last;
        #: for the status page. Not snapshotted: recent history only.
        self.recent_failed_gates: deque[tuple] = deque(maxlen=RECENT_FAILED_GATES)
        #: Validated events waiting for ``drain``. deque appends and pops are
        #: atomic, so producers need no lock.
        self.queue: deque[Event] = deque()
        #: ``enqueue(event)``: queue a validated event for the next ``drain``
        #: (the deque's own append: no Python frame on the hot path).
        self.enqueue: Callable[[Event], None] = self.queue.append
        self._bind_series()
        self._handlers: dict[type, Callable[[Any], None]] = {
            PersonaSwitched: self._persona_switched,
            TokensUsed: self._tokens_used,
            StageFinished: self._stage_finished,
            LLMCallFinished: self._llm_call_finished,
        }

    # -- the fold ---------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one validated event now (after any queued ones, to keep their order)."""
        with self.lock:
            if self.queue:
                self._drain_locked()
            self._handlers[type(event)](event)  # called directly: one frame less per event

    def apply_all(self, events: list[Event]) -> None:
        """Fold ``events`` in order under one hold of the lock: a scrape sees all
        or none (the tailer keeps the lists short: a wait of milliseconds)."""
        handlers = self._handlers
        with self.lock:
            if self.queue:
                self._drain_locked()
            for event in events:
                handlers[type(event)](event)

    def drain(self) -> None:
        """Fold the queued events (before a scrape or a snapshot reads state)."""
        if not self.queue:
            return
        with self.lock:
            self._drain_locked()

    def _drain_locked(self) -> None:
        pop = self.queue.popleft
        handlers = self._handlers  # bound once: this loop runs per queued event
        while True:
            try:
                event = pop()
            except IndexError:
                return
            handlers[type(event)](event)

    def set_price(self, model: str, price: Price) -> None:
        """Price ``model`` from now on (``ObservableLLM(cost_per_1k_tokens=...)``)."""
        with self.lock:
            self._drain_locked()  # what was recorded before keeps its old price
            self.prices.override(model, price)
            self._token_plans.clear()

    def _count_applied(self, kind: str) -> None:
        self._inc(c.EVENTS_APPLIED.name, (kind,))

    def reject(self, reason: str) -> None:
        """Count an event that failed validation (``reason`` from REJECT_REASONS)."""
        with self.lock:
            self._inc(c.EVENTS_REJECTED.name, (reason,))

    def _bind_series(self) -> None:
        """Direct references to the hottest series dicts (rebound after a restore)."""
        self._tokens = self.counters[c.PERSONA_TOKENS.name]
        self._costs = self.counters[c.PERSONA_COST.name]
        self._applied = self.counters[c.EVENTS_APPLIED.name]

    def count_journal_error(self) -> None:
        """Count a failed journal read or write (the tailer's, or ingest's)."""
        with self.lock:
            self._inc(c.JOURNAL_ERRORS.name, ())

    def _inc(
        self, name: str, key: LabelKey, amount: float = 1.0, trace: tuple[str, float] | None = None
    ) -> None:
        series = self.counters[name]
        series[key] = series.get(key, 0.0) + amount
        if trace is not None:
            self.exemplars[(name, key, -1)] = (trace[0], amount, trace[1])

    def _observe(
        self,
        spec: c.MetricSpec,
        key: LabelKey,
        value: float,
        trace: tuple[str, float] | None = None,
    ) -> None:
        index = histogram_of(self.histograms[spec.name], key).observe(value)
        if trace is not None:
            self.exemplars[(spec.name, key, index)] = (trace[0], value, trace[1])

    def _persona_switched(self, ev: PersonaSwitched) -> None:
        admit = self.guard.admit
        to_persona = admit("persona", ev.to_persona)
        chatmode = admit("chatmode", ev.chatmode)
        previous = self.sessions.pop(ev.session, None)
        if ev.from_persona is not None:
            from_persona = admit("persona", ev.from_persona)
        elif previous is not None:
            from_persona = previous[0]
        else:
            from_persona = NO_PERSONA
        since = ev.ts
        if previous is not None:
            if ev.ts >= previous[2]:  # capped like an explicit duration
                duration = min(ev.ts - previous[2], MAX_SECONDS)
                self._observe(c.PERSONA_DURATION, (previous[0], previous[1]), duration)
            else:  # an event out of order: the session's start never moves backwards
                since = previous[2]
        self._inc(c.PERSONA_SWITCHES.name, (from_persona, to_persona, chatmode))
        if len(self.sessions) >= MAX_SESSIONS:
            self.sessions.pop(next(iter(self.sessions)))
        self.sessions[ev.session] = (to_persona, chatmode, since)
        self._count_applied(ev.TYPE)

    def _token_plan(self, ev: TokensUsed, labels: tuple) -> tuple:
        """Everything a tokens event with ``ev``'s ``labels`` touches, worked out
        once: admitted label values, series keys, and a window over which the
        model's resolved price holds ([valid from, valid until, price])."""
        admit = self.guard.admit
        p, m, model_label = (
            admit("persona", ev.persona),
            admit("chatmode", ev.chatmode),
            admit("model", ev.model),
        )
        plan = (
            *((p, m, model_label, token_type) for token_type in TOKEN_TYPES),
            (p, m, model_label),
            (p, model_label),
            p,
            # [valid from, valid until, price, its per-token rates (None when
            # unpriced or tiered)]; empty: resolved on first use.
            [1.0, 0.0, None, None],
            # The GenAI token histograms (input, output) for the event's
            # operation and provider; empty: found on first use.
            [],
        )
        if len(self._token_plans) < MAX_CACHED_PLANS:
            self._token_plans[labels] = plan
        return plan

    def _tokens_used(self, ev: TokensUsed) -> None:
        """The most frequent event, so it works from a cached plan and touches
        the counters directly. Token types are counted disjointly (see
        ``model.fields.TOKEN_TYPES``); the budget is charged every billable
        token once (input + output)."""
        (
            persona,
            model,
            input_tokens,
            output_tokens,
            chatmode,
            ts,
            trace_id,
            cache_read,
            cache_write,
            reasoning,
            reported,
            operation,
            provider,
        ) = ev
        labels = (persona, chatmode, model, operation, provider)
        plan = self._token_plans.get(labels) or self._token_plan(ev, labels)
        (
            in_key,
            out_key,
            read_key,
            write_key,
            reasoning_key,
            cost_key,
            unpriced_key,
            budget_persona,
            window,
            genai_histograms,
        ) = plan
        tokens = self._tokens
        if cache_read or cache_write or reasoning:  # the parts of input and output
            uncached = input_tokens - cache_read - cache_write
            answered = output_tokens - reasoning
            for key, count in (
                (in_key, uncached),
                (out_key, answered),
                (read_key, cache_read),
                (write_key, cache_write),
                (reasoning_key, reasoning),
            ):
                if count:
                    tokens[key] = tokens.get(key, 0.0) + count
        else:  # the common case
            uncached, answered = input_tokens, output_tokens
            if input_tokens:
                tokens[in_key] = tokens.get(in_key, 0.0) + input_tokens
            if output_tokens:
                tokens[out_key] = tokens.get(out_key, 0.0) + output_tokens
        if reported is not None:
            cost = reported
            series = self.counters[c.PERSONA_REPORTED_COST.name]
            series[cost_key] = series.get(cost_key, 0.0) + reported
        else:
            if not window[0] <= ts < window[1]:
                resolved = self.prices.resolve(model, ts)
                price = resolved.price
                rates = None if price is None or price.tiers else price.per_token
                window[:] = (resolved.valid_from, resolved.valid_until, price, rates)
            rates = window[3]
            if rates is not None:  # Price.per_token's rates, applied here without a call
                cost = uncached * rates[0] + output_tokens * rates[1]
                if cache_read or cache_write:
                    cost += cache_read * rates[2] + cache_write * rates[3]
            elif window[2] is not None:  # a tiered price: the tier depends on the request
                cost = window[2].cost(input_tokens, output_tokens, cache_read, cache_write)
            else:
                cost = 0.0
                unpriced = self.counters[c.PERSONA_UNPRICED_TOKENS.name]
                unpriced[unpriced_key] = (
                    unpriced.get(unpriced_key, 0.0) + input_tokens + output_tokens
                )
        costs = self._costs
        costs[cost_key] = costs.get(cost_key, 0.0) + cost
        self.budgets.charge(budget_persona, ts, input_tokens + output_tokens, cost)
        applied = self._applied
        applied[_TOKENS_APPLIED] = applied.get(_TOKENS_APPLIED, 0.0) + 1.0
        if self.genai is not None:
            if not genai_histograms:
                genai_histograms += self.genai.token_histograms(ev, cost_key[2], budget_persona)
            genai_histograms[0].observe(input_tokens)
            genai_histograms[1].observe(output_tokens)
        if trace_id is not None:
            exemplars = self.exemplars
            for key, count in zip(
                plan[:5], (uncached, answered, cache_read, cache_write, reasoning), strict=True
            ):
                if count:
                    exemplars[(c.PERSONA_TOKENS.name, key, -1)] = (trace_id, count, ts)

    def _stage_finished(self, ev: StageFinished) -> None:
        admit = self.guard.admit
        workflow = admit("workflow", ev.workflow)
        stage = admit("stage", ev.stage)
        persona = admit("persona", ev.persona)
        trace = (ev.trace_id, ev.ts) if ev.trace_id else None
        self._observe(c.STAGE_DURATION, (workflow, stage, persona), ev.duration_seconds, trace)
        if ev.gate is not None:
            gates = self.counters[c.QUALITY_GATE.name]
            # Both results exist from the first verdict on, so failure ratios
            # are 0 rather than absent while nothing has failed yet.
            for result in GATE_RESULTS:
                gates.setdefault((workflow, stage, result), 0.0)
            gates[(workflow, stage, ev.gate)] += 1.0
            if ev.gate == FAILED:
                self.recent_failed_gates.append((ev.ts, workflow, stage, persona))
        self._count_applied(ev.TYPE)

    def _call_plan(self, ev: LLMCallFinished, labels: tuple) -> tuple:
        """The series a call with ``ev``'s ``labels`` touches, found once."""
        admit = self.guard.admit
        key = (admit("persona", ev.persona), admit("model", ev.model))
        duration = histogram_of(self.histograms[c.LLM_DURATION.name], key)
        genai = None if self.genai is None else self.genai.duration_histogram(ev, key[1], key[0])
        if len(self._call_plans) < MAX_CACHED_PLANS:
            self._call_plans[labels] = (key, duration, genai)
        return key, duration, genai

    def _llm_call_finished(self, ev: LLMCallFinished) -> None:
        labels = (ev.persona, ev.model, ev.operation, ev.provider, ev.error_type)
        plan = self._call_plans.get(labels)
        key, duration, genai = plan or self._call_plan(ev, labels)
        seconds, trace_id = ev.duration_seconds, ev.trace_id
        index = duration.observe(seconds)
        if trace_id is not None:
            self.exemplars[(c.LLM_DURATION.name, key, index)] = (trace_id, seconds, ev.ts)
        self._inc(c.LLM_REQUESTS.name, key, 1.0, None if trace_id is None else (trace_id, ev.ts))
        if ev.usage_unknown:
            self._inc(c.LLM_USAGE_UNKNOWN.name, key)
        self._inc(c.LLM_ERRORS.name, key, float(ev.error_type is not None))  # 0: the series exists
        if genai is not None:
            genai.observe(seconds)
            if ev.ttft_seconds is not None:
                self.genai.first_chunk(ev, key[1], key[0])
        self._count_applied(ev.TYPE)

    # -- snapshots ----------------------------------------------------------

    def to_json(self) -> dict:
        """All state as JSON-ready data, for journal snapshots: under the lock
        only C-level copies are made, shaped after it (``fold.persist``)."""
        self.drain()
        with self.lock:
            counters = {name: series.copy() for name, series in self.counters.items()}
            frozen = {name: freeze(series) for name, series in self.histograms.items()}
            sessions = self.sessions.copy()
            budgets, guard = self.budgets.to_json(), self.guard.to_json()
        return shaped(counters, frozen, sessions, budgets, guard)

    def load_json(self, data: dict) -> None:
        """Restore state written by ``to_json`` (metrics unknown to this version are dropped)."""
        with self.lock:
            for name, rows in data.get("counters", {}).items():
                if name in self.counters:
                    self.counters[name] = counter_series(rows)
            for name, rows in data.get("histograms", {}).items():
                if name in self.histograms:
                    self.histograms[name] = series_from_json(rows, c.BY_NAME[name].buckets)
            self.sessions = sessions_from_json(data.get("sessions", {}))
            self.budgets.load_json(data.get("budgets", {}))
            self.guard.load_json(data.get("guard", {}))
            self._token_plans.clear()
            self._call_plans.clear()
            self._bind_series()


__all__ = ["MAX_QUEUED", "RECENT_FAILED_GATES", "LabelKey", "MetricState"]
