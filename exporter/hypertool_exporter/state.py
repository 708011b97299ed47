"""The one fold: ``apply(event)`` turns events into metric state.

The in-process API, the journal tailer and HTTP ingest all call the same
``MetricState.apply``, so a restart is a replay and tests can feed events
directly. State is plain Python containers keyed by label tuples; the
collector renders it at scrape time. A lock keeps a scrape from seeing half
an event.
"""

from __future__ import annotations

import bisect
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import catalog as c
from .budgets import BudgetBook
from .config import Config
from .events import Event, LLMCallFinished, PersonaSwitched, StageFinished, TokensUsed
from .labels import LabelGuard

#: Sessions tracked for persona durations; the oldest is forgotten past this.
MAX_SESSIONS = 10_000

LabelKey = tuple[str, ...]


class Histogram:
    """Bucket counts (not cumulative; the last one is +Inf), sum and count."""

    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]):
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value

    @property
    def count(self) -> int:
        return sum(self.counts)

    def cumulative(self) -> list[int]:
        total, out = 0, []
        for n in self.counts:
            total += n
            out.append(total)
        return out


@dataclass
class JournalStatus:
    """How far the exporter is behind its journal; written by the tailer."""

    path: Path
    lag_events: int = 0
    lag_seconds: float = 0.0
    last_snapshot: float = 0.0
    last_compaction: float = 0.0


class MetricState:
    """All metric values of one exporter, updated only through ``apply``."""

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
        self.histograms: dict[str, dict[LabelKey, Histogram]] = {
            spec.name: {} for spec in c.CATALOG if spec.kind == "histogram"
        }
        #: session -> (persona, chatmode, since)
        self.sessions: dict[str, tuple[str, str, float]] = {}
        #: Set when a tailer follows a journal into this state.
        self.journal_status: JournalStatus | None = None
        self._handlers: dict[type, Callable[[Any], None]] = {
            PersonaSwitched: self._persona_switched,
            TokensUsed: self._tokens_used,
            StageFinished: self._stage_finished,
            LLMCallFinished: self._llm_call_finished,
        }

    # -- the fold ---------------------------------------------------------

    def apply(self, event: Event) -> None:
        """Fold one validated event into the metrics."""
        handler = self._handlers[type(event)]
        with self.lock:
            handler(event)
            self._inc(c.EVENTS_APPLIED.name, (event.TYPE,))

    def reject(self, reason: str) -> None:
        """Count an event that failed validation (``reason`` from REJECT_REASONS)."""
        with self.lock:
            self._inc(c.EVENTS_REJECTED.name, (reason,))

    def count_journal_error(self) -> None:
        with self.lock:
            self._inc(c.JOURNAL_ERRORS.name, ())

    def _inc(self, name: str, key: LabelKey, amount: float = 1.0) -> None:
        series = self.counters[name]
        series[key] = series.get(key, 0.0) + amount

    def _observe(self, spec: c.MetricSpec, key: LabelKey, value: float) -> None:
        series = self.histograms[spec.name]
        hist = series.get(key)
        if hist is None:
            hist = series[key] = Histogram(spec.buckets)
        hist.observe(value)

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
            from_persona = c.NO_PERSONA
        if previous is not None and ev.ts >= previous[2]:
            self._observe(c.PERSONA_DURATION, (previous[0], previous[1]), ev.ts - previous[2])
        self._inc(c.PERSONA_SWITCHES.name, (from_persona, to_persona, chatmode))
        if len(self.sessions) >= MAX_SESSIONS:
            self.sessions.pop(next(iter(self.sessions)))
        self.sessions[ev.session] = (to_persona, chatmode, ev.ts)

    def _tokens_used(self, ev: TokensUsed) -> None:
        admit = self.guard.admit
        persona = admit("persona", ev.persona)
        chatmode = admit("chatmode", ev.chatmode)
        model = admit("model", ev.model)
        if ev.input_tokens:
            self._inc(c.PERSONA_TOKENS.name, (persona, chatmode, model, "input"), ev.input_tokens)
        if ev.output_tokens:
            self._inc(c.PERSONA_TOKENS.name, (persona, chatmode, model, "output"), ev.output_tokens)
        cost = self.prices.cost(ev.model, ev.input_tokens, ev.output_tokens)
        if cost is None:
            cost = 0.0
            self._inc(c.LLM_UNPRICED_TOKENS.name, (model,), ev.input_tokens + ev.output_tokens)
        self._inc(c.PERSONA_COST.name, (persona, chatmode, model), cost)
        self.budgets.charge(persona, ev.ts, ev.input_tokens + ev.output_tokens, cost)

    def _stage_finished(self, ev: StageFinished) -> None:
        admit = self.guard.admit
        workflow = admit("workflow", ev.workflow)
        stage = admit("stage", ev.stage)
        persona = admit("persona", ev.persona)
        self._observe(c.STAGE_DURATION, (workflow, stage, persona), ev.duration_seconds)
        if ev.gate is not None:
            gates = self.counters[c.QUALITY_GATE.name]
            # Both results exist from the first verdict on, so failure ratios
            # are 0 rather than absent while nothing has failed yet.
            for result in c.GATE_RESULTS:
                gates.setdefault((workflow, stage, result), 0.0)
            gates[(workflow, stage, ev.gate)] += 1.0

    def _llm_call_finished(self, ev: LLMCallFinished) -> None:
        admit = self.guard.admit
        key = (admit("persona", ev.persona), admit("model", ev.model))
        self._observe(c.LLM_DURATION, key, ev.duration_seconds)
        self._inc(c.LLM_REQUESTS.name, key)
        errors = self.counters[c.LLM_ERRORS.name]
        errors[key] = errors.get(key, 0.0) + (ev.error_type is not None)

    # -- snapshots ----------------------------------------------------------

    def to_json(self) -> dict:
        """All state as JSON-ready data, for journal snapshots."""
        with self.lock:
            return {
                "counters": {
                    name: [[list(k), v] for k, v in series.items()]
                    for name, series in self.counters.items()
                },
                "histograms": {
                    name: [[list(k), h.counts, h.sum] for k, h in series.items()]
                    for name, series in self.histograms.items()
                },
                "sessions": {s: list(v) for s, v in self.sessions.items()},
                "budgets": self.budgets.to_json(),
                "guard": self.guard.to_json(),
            }

    def load_json(self, data: dict) -> None:
        """Restore state written by ``to_json`` (metrics unknown to this version are dropped)."""
        with self.lock:
            for name, rows in data.get("counters", {}).items():
                if name in self.counters:
                    self.counters[name] = {tuple(k): float(v) for k, v in rows}
            for name, rows in data.get("histograms", {}).items():
                if name not in self.histograms:
                    continue
                spec = c.BY_NAME[name]
                series: dict[LabelKey, Histogram] = {}
                for key, counts, total in rows:
                    hist = Histogram(spec.buckets)
                    if len(counts) == len(hist.counts):
                        hist.counts = [int(n) for n in counts]
                        hist.sum = float(total)
                    series[tuple(key)] = hist
                self.histograms[name] = series
            self.sessions = {
                s: (str(v[0]), str(v[1]), float(v[2])) for s, v in data.get("sessions", {}).items()
            }
            self.budgets.load_json(data.get("budgets", {}))
            self.guard.load_json(data.get("guard", {}))
