"""The public in-process API: record persona, token, workflow and LLM events.

``PersonaMetricsCollector`` keeps the seed project's method names so its
users can switch. Each call validates its input into an event through
``model.events`` and hands it to the one fold; with a journal, events are
appended durably instead and a tailer folds them, exactly as
``hypertool-exporter serve`` does. The exporter itself (state, registry,
``/metrics``) is ``app.Exporter``, the same assembly ``serve`` uses.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client.registry import REGISTRY, CollectorRegistry

from ..app import DEFAULT_PORT, Exporter
from ..fold.batches import TokenBatch
from ..journal.writer import JournalWriter
from ..model.budget_check import BudgetCheck, BudgetExceeded, Reservation, ttl_value
from ..model.budgets import Standing
from ..model.config import Config
from ..model.events import (
    Event,
    PersonaSwitched,
    StageFinished,
    from_validated,
)
from ..model.fields import (
    EventError,
    count_value,
    label_value,
    money_value,
    trace_id_value,
)
from ..model.label_forms import MAX_CACHED_LABELS, LabelForms, plain_seconds
from . import tracing
from .calls import CallRecording
from .work import WorkRecording

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider

T = TypeVar("T")


class PersonaMetricsCollector(CallRecording, WorkRecording):
    """Records persona-system events and exposes them as Prometheus metrics.

    ``registry``: where the metrics are registered; a private
    ``CollectorRegistry`` in tests, prometheus_client's default otherwise.
    ``journal``: a journal file; when given, every event is appended durably
    and folded by a tailer thread (a little later, and surviving restarts),
    as the config's ``journal.durability`` says: ``buffered`` (the default)
    commits within 20 ms (``flush()``: now), the others before returning.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        config: Config | None = None,
        journal: str | Path | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.exporter = exporter = Exporter(config, registry=registry, journal=journal, clock=clock)
        self.state, self.registry, self.tailer = exporter.state, exporter.registry, exporter.tailer
        self._clock = clock
        self._writer: JournalWriter | None = None
        self._meter_provider: MeterProvider | None = None
        # Raw label values seen before -> their validated form's batch (in process), or form.
        self._token_batches: dict[tuple[Any, ...], TokenBatch] = {}
        self._journal_labels = LabelForms()
        # Exemplars need the current span; look it up only once tracing is in use.
        self._tracing = tracing.state
        #: The other calls' label values seen before, validated (``label_forms``).
        self._label_forms = LabelForms()
        self._buffered = exporter.config.durability == "buffered"
        self._journal_add = self._record_run
        self._runs_kept = False  # records of runs wait in the buffer (``Recording``)
        #: Where a call built from label values seen before goes: ``record``,
        #: or straight to the buffer (``journal.durability: buffered``).
        self._add: Callable[[Event], None] = self.record
        if journal is not None:
            self._writer = writer = exporter.writer
            assert writer is not None
            writer.open()  # a bad path fails here, not at the first record
            if self._buffered:
                pending = writer.pending()
                self._journal_add, self._add = pending.add_record, pending.add
                self._runs_kept = True
            exporter.follow()

    # -- recording ----------------------------------------------------------

    def record(self, event: Event, *, release: str | None = None) -> None:
        """Record a validated event: fold it now, or append it to the journal
        (releasing the budget reservation ``release``, whose usage it is)."""
        writer = self._writer
        if writer is None:
            self.state.apply(event)
        elif self._buffered:
            writer.buffer(event, release)
        else:
            writer([event], releases=(release,) if release else ())

    def flush(self) -> None:
        """Commit every recorded event now (``journal.durability: buffered``
        commits within 20 ms anyway); ``JournalError`` when it cannot be."""
        if self._writer is not None:
            self._writer.flush()

    def _parsed(self, parse: Callable[[], T]) -> T:
        try:
            return parse()
        except EventError as exc:
            self.state.reject(exc.code)
            raise

    def _untraced(self, trace_id: str | None) -> bool:
        """Whether a call has no trace id, given or current (tracing is off):
        then one with label values seen before is built from their
        validated form (``label_forms``)."""
        return trace_id is None and self._tracing.provider is None

    def _trace(self, trace_id: str | None) -> str | None:
        """The given trace id (validated), else the current span's when tracing is on."""
        if trace_id is not None:
            return trace_id_value("trace_id", trace_id)
        if self._tracing.provider is None:
            return None
        return tracing.current_trace_id()

    def switch_persona(
        self,
        from_persona: str | None,
        to_persona: str,
        chatmode: str = "default",
        *,
        session: str = "default",
    ) -> None:
        """Record a switch; ``from_persona=None`` lets the session's current persona
        stand. With tracing on, it is a ``persona_switch`` span too."""
        key = (PersonaSwitched, to_persona, chatmode, from_persona, session)
        form = self._label_forms.seen(key)
        if form is not None:  # (its session's run, the values a record gives, the event's)
            run, given, values = form
            if self._runs_kept:  # a record of its session's run (``model.runs``)
                self._journal_add(run, (*given, self._clock()))
            else:
                self._add(from_validated(PersonaSwitched, (*values, self._clock())))
        else:
            raw = {
                "to_persona": to_persona,
                "from_persona": from_persona,
                "chatmode": chatmode,
                "session": session,
                "ts": self._clock(),
            }
            event = self._parsed(lambda: PersonaSwitched.parse(raw))
            self.record(event)
            self._label_forms.remember(key, ((PersonaSwitched, event[3]), event[:3], event[:4]))
        span = tracing.get_tracer().start_span("persona_switch")
        if span.is_recording():  # no provider anywhere: no attributes to build
            span.set_attributes(
                {
                    "hypertool.persona.from": from_persona or "none",
                    "hypertool.persona.to": to_persona,
                    "hypertool.chatmode": chatmode,
                    **tracing.identity_attributes(to_persona, chatmode),
                }
            )
        span.end()

    def record_workflow_stage(
        self,
        workflow: str,
        stage: str,
        persona: str,
        duration_seconds: float,
        quality_gate_passed: bool | None = None,
        *,
        trace_id: str | None = None,
    ) -> None:
        """Record a finished stage; ``quality_gate_passed=None`` means no gate was checked."""
        key = (StageFinished, workflow, stage, persona, quality_gate_passed)
        form = self._label_forms.seen(key)
        if (
            form is not None
            and plain_seconds(duration_seconds)
            and (quality_gate_passed is None or type(quality_gate_passed) is bool)  # not 1
        ):
            untraced = self._untraced(trace_id)
            if self._runs_kept and untraced:  # a record of its label set's run
                self._journal_add(form, (duration_seconds, self._clock()))
                return
            trace = None if untraced else self._parsed(lambda: self._trace(trace_id))
            _, name, step, by, gate = form
            values = (name, step, by, duration_seconds, gate, self._clock(), trace)
            self._add(from_validated(StageFinished, values))
            return
        raw = {
            "workflow": workflow,
            "stage": stage,
            "persona": persona,
            "duration_seconds": duration_seconds,
            "gate": quality_gate_passed,
            "ts": self._clock(),
            "trace_id": self._parsed(lambda: self._trace(trace_id)),
        }
        event = self._parsed(lambda: StageFinished.parse(raw))
        self.record(event)
        self._label_forms.remember(key, (StageFinished, *event[:3], event.gate))

    # -- reading back -------------------------------------------------------

    def budget_standing(self, persona: str) -> Standing | None:
        """Where ``persona`` stands against its budget now (``None`` when no
        budget applies), from what this collector has folded: with a journal,
        what its tailer has read so far (it polls every few milliseconds)."""
        return self.state.view(series=False).standing_of(persona)

    def check_budget(self, persona: str, tokens: int = 0, usd: float = 0.0) -> BudgetCheck:
        """Whether ``tokens`` and ``usd`` more fit ``persona``'s budget now
        (``allowed``; ``explain()`` says why not, naming the figures). A call
        of unknown size asks for 0: refused once a limit is reached. Same
        answer as ``GET /v1/budgets/{persona}`` and ``hypertool-exporter check``."""
        name = label_value("persona", persona, persona=True)
        tokens = count_value("tokens", tokens)
        usd = money_value("usd", usd) or 0.0
        return self.exporter.check_budget(name, tokens, usd)

    @property
    def current_persona(self) -> str | None:
        """The persona the default session is in (the plan's attribute, which
        its CLI reads); ``None`` before its first switch. Journalled events
        show here once folded, within milliseconds."""
        found = self.state.view(series=False).sessions.get("default")
        return None if found is None else found[0]

    @property
    def persona_start_time(self) -> float | None:
        """When the default session entered its current persona (Unix seconds)."""
        found = self.state.view(series=False).sessions.get("default")
        return None if found is None else found[2]

    def reserve_budget(
        self, persona: str, tokens: int = 0, usd: float = 0.0, *, ttl_seconds: float = 300.0
    ) -> Reservation:
        """Hold ``tokens`` and ``usd`` of ``persona``'s budget for
        ``ttl_seconds``, so that other agents (in any process on the machine)
        cannot spend them first; ``BudgetExceeded`` when they do not fit
        beside what is used and reserved. Give its ``id`` to the usage
        (``record_token_usage(..., reservation_id=...)``) to release it, or
        ``release_budget`` it unused. Reservations live in the journal: a
        collector without one has nowhere to keep them (``RuntimeError``)."""
        desk = self.exporter.desk
        if desk is None:
            raise RuntimeError(
                "budget reservations live in the journal: create the collector with journal=..."
            )
        name = label_value("persona", persona, persona=True)
        tokens = count_value("tokens", tokens)
        usd = money_value("usd", usd) or 0.0
        ttl = ttl_value("ttl_seconds", ttl_seconds)
        reservation, answer = desk.reserve(name, tokens, usd, ttl)
        if reservation is None:
            raise BudgetExceeded(answer)
        return reservation

    def release_budget(self, persona: str, reservation_id: str) -> bool:
        """Give back a reservation unused; whether it was still live."""
        desk = self.exporter.desk
        if desk is None:
            return False
        return desk.cancel(label_value("persona", persona, persona=True), reservation_id)

    # -- serving ------------------------------------------------------------

    def serve(self, port: int | None = None, host: str = "127.0.0.1") -> int:
        """Serve ``/``, ``/metrics`` and ``/healthz`` from this process in a daemon
        thread; returns the port. ``port`` defaults to ``$HYPERTOOL_PORT``, else 9464,
        as for ``hypertool-exporter serve``."""
        if port is None:
            port = int(os.environ.get("HYPERTOOL_PORT", DEFAULT_PORT))
        try:
            return self.exporter.serve(host, port).port
        except OSError as exc:  # say which port, and how to pick another
            raise OSError(
                exc.errno,
                f"cannot listen on {host}:{port}: {exc.strerror}; pass serve(port=...) or set "
                "HYPERTOOL_PORT (0 picks a free port)",
            ) from exc

    def otel_meter_provider(self, *, set_global: bool = False) -> MeterProvider:
        """An OpenTelemetry ``MeterProvider`` whose instruments appear on this
        collector's ``/metrics`` (see ``otel_metrics``)."""
        if self._meter_provider is None:
            from .otel_metrics import otel_meter_provider

            self._meter_provider = otel_meter_provider(self.registry, set_global=set_global)
        return self._meter_provider

    def close(self) -> None:
        """Stop serving, commit what waits and stop the tailer (taking a final snapshot)."""
        self.exporter.close()
        self._writer = None  # what is recorded later is folded here, not journalled
        self._journal_add, self._add = self._record_run, self.record
        self._runs_kept = False


_default: PersonaMetricsCollector | None = None
_default_lock = threading.Lock()


def get_persona_metrics_collector() -> PersonaMetricsCollector:
    """The process-wide collector, registered on prometheus_client's default registry.

    It honours the same environment as the command line: ``HYPERTOOL_CONFIG``
    (budgets and prices) and ``HYPERTOOL_JOURNAL`` (when set, events are
    journalled, so ``hypertool-exporter stats`` and ``serve`` see them).
    """
    global _default
    with _default_lock:
        if _default is None:
            from ..model.config import load_config

            _default = PersonaMetricsCollector(
                REGISTRY,
                config=load_config(os.environ.get("HYPERTOOL_CONFIG") or None),
                journal=os.environ.get("HYPERTOOL_JOURNAL") or None,
            )
        return _default


def set_persona_metrics_collector(
    collector: PersonaMetricsCollector | None,
) -> PersonaMetricsCollector | None:
    """Make ``collector`` the process-wide one, for an application that builds
    its own (and for tests); ``None`` lets the next
    ``get_persona_metrics_collector`` build one from the environment again.
    Returns the one it replaces."""
    global _default
    with _default_lock:
        previous, _default = _default, collector
        return previous


__all__ = [
    "MAX_CACHED_LABELS",
    "PersonaMetricsCollector",
    "get_persona_metrics_collector",
    "set_persona_metrics_collector",
]
