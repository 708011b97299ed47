"""The Langfuse-shaped API of the Hypertool documents, over our tracing and metrics.

``LangfuseIntegration`` is a thin facade, not a second client: a trace, a
span and a generation are OpenTelemetry spans with the attributes Langfuse
reads (``langfuse.trace.name``, user and session ids, ``langfuse.trace.tags``,
``langfuse.trace.metadata.*``, ``langfuse.observation.type``), exported
wherever ``init_tracing`` sends spans (Langfuse's OTLP endpoint when its keys
are set). The persona is the trace's user and the chat mode its session. A
generation's tokens and cost go through the collector like any other, so the
facade and ``/metrics`` always agree. Without a tracing backend every method
still records metrics, and spans are no-ops (one warning per process).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.trace import set_span_in_context

from . import tracing
from .collector import PersonaMetricsCollector, get_persona_metrics_collector
from .langfuse_plan import PlanCalls
from .observation import STATUSES, Observation
from .usage import usage_counts

log = logging.getLogger(__name__)


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _log_debug() -> None:
    """Debug lines of the facade on stderr (a handler of its own, added once,
    unless the app configured logging itself)."""
    log.setLevel(logging.DEBUG)
    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)


class LangfuseIntegration(PlanCalls):
    """Traces, spans and generations as the Hypertool documents use them.

    With ``public_key`` and ``secret_key`` (and ``host``, default the Langfuse
    cloud) spans go to that Langfuse; otherwise the environment decides, as
    for ``init_tracing`` (``LANGFUSE_*`` or ``OTEL_EXPORTER_OTLP_*``).
    ``debug`` (default: ``LANGFUSE_DEBUG``, as the guide's troubleshooting
    sets it) logs where spans go and each trace, span and generation, with
    its persona, model and tokens, at debug level on stderr.
    """

    _warned = False

    def __init__(
        self,
        public_key: str | None = None,
        secret_key: str | None = None,
        host: str | None = None,
        *,
        collector: PersonaMetricsCollector | None = None,
        debug: bool | None = None,
    ):
        if debug if debug is not None else _flag(os.environ.get("LANGFUSE_DEBUG")):
            _log_debug()
        if public_key or secret_key:
            if not (public_key and secret_key):
                missing = "secret_key" if public_key else "public_key"
                raise ValueError(f"{missing}: Langfuse needs both keys (got only the other)")
            env = {
                "LANGFUSE_PUBLIC_KEY": public_key,
                "LANGFUSE_SECRET_KEY": secret_key,
                "LANGFUSE_HOST": host or tracing.LANGFUSE_CLOUD,
                "OTEL_SERVICE_NAME": os.environ.get("OTEL_SERVICE_NAME", "hypertool"),
            }
            tracing.init_tracing(env=env)
        else:
            tracing.get_tracer()  # sets tracing up from the environment, once
        self.collector = collector or get_persona_metrics_collector()
        self.enabled = tracing.state.provider is not None
        host = host or os.environ.get("LANGFUSE_HOST") or os.environ.get("LANGFUSE_BASE_URL")
        self.host = host or tracing.LANGFUSE_CLOUD
        log.debug(
            "Langfuse facade: spans %s",
            f"exported for {self.host}" if self.enabled else "not exported (no keys)",
        )
        if not self.enabled and not LangfuseIntegration._warned:
            LangfuseIntegration._warned = True
            log.warning(
                "Langfuse not configured: traces are not exported (set LANGFUSE_PUBLIC_KEY "
                "and LANGFUSE_SECRET_KEY); metrics are recorded as usual"
            )

    @property
    def base_url(self) -> str:
        """The Langfuse host spans are meant for."""
        return self.host

    @property
    def langfuse(self) -> LangfuseIntegration:
        """Itself: the plan reads ``integration.langfuse.base_url``."""
        return self

    # -- traces and spans ---------------------------------------------------

    def start_trace(
        self,
        name: str,
        persona: str | None = None,
        chatmode: str | None = None,
        metadata: Mapping[str, Any] | None = None,
        *,
        tags: list[str] | tuple[str, ...] = (),
    ) -> Observation:
        """Open a trace and make it current (with its persona and chat mode)
        until ``end_trace``, so calls made meanwhile nest under it."""
        attributes: dict[str, Any] = {
            "langfuse.trace.name": name,
            **tracing.identity_attributes(persona, chatmode),
            **tracing.metadata_attributes("langfuse.trace.metadata", metadata),
        }
        if tags:
            attributes["langfuse.trace.tags"] = tuple(str(tag) for tag in tags)
        span = tracing.get_tracer().start_span(name, attributes=attributes)
        trace = Observation(self, "trace", name, span)
        log.debug("trace %r started: %s, persona %s", name, trace.trace_id, persona)
        trace.persona, trace.chatmode = persona, chatmode
        trace._identity_tokens = (
            tracing.current_persona.set(persona or tracing.current_persona.get()),
            tracing.current_chatmode.set(chatmode or tracing.current_chatmode.get()),
        )
        trace._context_token = otel_context.attach(set_span_in_context(span))
        return trace

    def end_trace(self, trace: Observation, status: str = "success") -> None:
        """End ``trace`` (and anything in it still open) with ``status``:
        ``success`` or ``error`` (also ``ok``/``completed``, ``failed``/``failure``)."""
        trace.end(status)

    def _child(
        self, parent: Observation, kind: str, name: str, attributes: dict[str, Any]
    ) -> Observation:
        persona = parent.persona or tracing.current_persona.get()
        chatmode = parent.chatmode or tracing.current_chatmode.get()
        attributes = {
            "langfuse.observation.type": kind,
            **tracing.identity_attributes(persona, chatmode),
            **attributes,
        }
        span = tracing.get_tracer().start_span(
            name, context=set_span_in_context(parent.span), attributes=attributes
        )
        child = Observation(self, kind, name, span)
        child.persona, child.chatmode = persona, chatmode
        parent.children.append(child)
        return child

    def start_span(
        self, trace: Observation, name: str, metadata: Mapping[str, Any] | None = None
    ) -> Observation:
        """Open a span (a stage) in ``trace``; ``end_trace`` ends it if ``end`` was not called."""
        return self._child(
            trace,
            "span",
            name,
            tracing.metadata_attributes("langfuse.observation.metadata", metadata),
        )

    # -- generations --------------------------------------------------------

    def create_generation(
        self,
        trace: Observation,
        name: str,
        model: str,
        prompt: Any = None,
        completion: Any = None,
        usage: Mapping[str, Any] | None = None,
        *,
        metadata: Mapping[str, Any] | None = None,
        cost_usd: float | None = None,
        latency_ms: float | None = None,
    ) -> Observation:
        """Record one LLM call made elsewhere: its tokens and cost through the
        collector (for the trace's persona and chat mode) and a ``generation``
        span. With ``latency_ms`` it is an LLM call on the latency metrics too.
        Prompt and completion go on the span only when content capture is on."""
        input_tokens, output_tokens = usage_counts(usage)
        attributes: dict[str, Any] = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": model,
            **tracing.metadata_attributes("langfuse.observation.metadata", metadata),
        }
        if input_tokens is not None:
            attributes["gen_ai.usage.input_tokens"] = input_tokens
            attributes["gen_ai.usage.output_tokens"] = output_tokens
        cost = cost_usd
        if cost is None and input_tokens is not None:  # priced as the fold prices it
            cost = self.collector.state.prices.cost(
                model, time.time(), input_tokens, output_tokens or 0
            )
        attributes.update(tracing.genai_cost_attributes(cost))
        if tracing.capture_content():
            for key, text in (("gen_ai.prompt", prompt), ("gen_ai.completion", completion)):
                if text is not None:
                    attributes[key] = tracing.captured_text(text)
        generation = self._child(trace, "generation", name, attributes)
        persona = generation.persona or "unknown"
        chatmode = generation.chatmode or "default"
        log.debug(
            "generation %r in trace %s: persona %s, model %s, tokens in/out %s/%s",
            name,
            generation.trace_id,
            persona,
            model,
            input_tokens,
            output_tokens,
        )
        trace_id = tracing.trace_id_of(generation.span)
        try:
            if latency_ms is not None:
                self.collector.record_llm_call(
                    persona,
                    model,
                    latency_ms / 1000.0,
                    input_tokens=input_tokens,
                    output_tokens=output_tokens,
                    chatmode=chatmode,
                    trace_id=trace_id,
                    usage_unknown=input_tokens is None,
                    cost_usd=cost_usd,
                )
            elif input_tokens is not None:
                self.collector.record_token_usage(
                    persona,
                    chatmode,
                    model,
                    input_tokens,
                    output_tokens or 0,
                    trace_id=trace_id,
                    cost_usd=cost_usd,
                )
        finally:
            generation.end()
        return generation

    def flush(self, timeout_millis: int = 10_000) -> bool:
        """Export every finished span now; returns within ``timeout_millis``."""
        return tracing.flush(timeout_millis)


_default: LangfuseIntegration | None = None
_default_lock = threading.Lock()


def get_langfuse_integration() -> LangfuseIntegration:
    """The process-wide integration (set up from the environment on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = LangfuseIntegration()
        return _default


def set_langfuse_integration(
    integration: LangfuseIntegration | None,
) -> LangfuseIntegration | None:
    """Make ``integration`` the process-wide one; ``None`` lets the next
    ``get_langfuse_integration`` set one up from the environment again, as
    in a fresh process (it warns again when tracing is off). Returns the one
    it replaces."""
    global _default
    with _default_lock:
        previous, _default = _default, integration
        if integration is None:
            LangfuseIntegration._warned = False
        return previous


#: The plan's name for ``get_langfuse_integration``.
get_langfuse = get_langfuse_integration


__all__ = [
    "STATUSES",
    "LangfuseIntegration",
    "Observation",
    "get_langfuse",
    "get_langfuse_integration",
    "set_langfuse_integration",
    "usage_counts",
]
