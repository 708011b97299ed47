"""OpenTelemetry tracing: one ``init_tracing`` for OTLP backends and Langfuse.

Configuration comes from the environment, as OpenTelemetry users expect:

- ``LANGFUSE_PUBLIC_KEY`` and ``LANGFUSE_SECRET_KEY`` (``LANGFUSE_HOST``
  defaults to the Langfuse cloud) send spans over OTLP/HTTP to
  ``{host}/api/public/otel/v1/traces`` with Basic auth;
- otherwise ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``
  (and the other standard ``OTEL_EXPORTER_OTLP_*`` variables) select any OTLP
  backend: Tempo, Jaeger, an OpenTelemetry Collector;
- with neither, tracing is a no-op: one warning, no network, metrics still
  recorded.

Every span started while a persona or chat mode is known carries them as
``user.id`` / ``langfuse.user.id`` and ``session.id`` / ``langfuse.session.id``,
so Langfuse groups traces by persona (user) and chat mode (session).
"""

from __future__ import annotations

import atexit
import base64
import contextvars
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

from .._version import __version__

log = logging.getLogger(__name__)

LANGFUSE_CLOUD = "https://cloud.langfuse.com"
LANGFUSE_PATH = "/api/public/otel/v1/traces"
#: Set to "true" to record prompts and completions on LLM spans (off by default).
CAPTURE_CONTENT_ENV = "HYPERTOOL_CAPTURE_CONTENT"
INSTRUMENTATION = "hypertool_exporter"

#: The persona and chat mode of the work in progress, for span attributes.
current_persona: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "hypertool_persona", default=None
)
current_chatmode: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "hypertool_chatmode", default=None
)
#: The (workflow, stage) a ``WorkflowTracer`` stage is running: calls made
#: inside it are charged to it (``hypertool_workflow_cost_usd_total``).
current_stage: contextvars.ContextVar[tuple[str, str] | None] = contextvars.ContextVar(
    "hypertool_stage", default=None
)


def identity_attributes(persona: str | None, chatmode: str | None) -> dict[str, str]:
    """Span attributes naming the persona (user) and chat mode (session)."""
    attributes = {}
    if persona:
        attributes["user.id"] = attributes["langfuse.user.id"] = persona
    if chatmode:
        attributes["session.id"] = attributes["langfuse.session.id"] = chatmode
    return attributes


def metadata_attributes(
    prefix: str, metadata: Mapping[str, object] | None
) -> dict[str, str | bool | int | float]:
    """``metadata`` as span attributes under ``prefix`` (Langfuse reads
    ``langfuse.trace.metadata.*`` and ``langfuse.observation.metadata.*``):
    strings, numbers and booleans as they are, anything else as JSON."""
    if not metadata:
        return {}
    attributes: dict[str, str | bool | int | float] = {}
    for key, value in metadata.items():
        if isinstance(value, str | bool | int | float):
            attributes[f"{prefix}.{key}"] = value
        else:
            import json

            attributes[f"{prefix}.{key}"] = json.dumps(value, default=str, sort_keys=True)
    return attributes


class PersonaSpanProcessor(SpanProcessor):
    """Stamps every span, not only the root, with the current persona and chat mode."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if span.attributes and "user.id" in span.attributes:
            return  # our own spans are created with them
        attributes = identity_attributes(current_persona.get(), current_chatmode.get())
        if attributes:
            span.set_attributes(attributes)

    def on_end(self, span: ReadableSpan) -> None:
        pass


@dataclass
class TracingState:
    """The process's tracing set-up: provider, exporter, where spans go."""

    provider: TracerProvider | None = None
    tracer: trace.Tracer | None = None
    exporter: SpanExporter | None = None
    destination: str = "none"
    capture_content: bool = False
    #: Set once get_tracer has tried init_tracing from the environment.
    auto_tried: bool = False
    #: Workflow stages running in this process: while there are none, the
    #: token hot path need not look for one (``current_stage``).
    stages_open: int = 0


#: What ``init_tracing`` configured, read by the instruments (public: the
#: collector checks ``state.provider`` on its hot path).
state = TracingState()
_stages_lock = threading.Lock()


def enter_stage(workflow: str, stage: str) -> contextvars.Token[tuple[str, str] | None]:
    """Make (``workflow``, ``stage``) the current stage; ``leave_stage`` with
    the token undoes it. Counted under a lock: threads enter stages at once."""
    with _stages_lock:
        state.stages_open += 1
    return current_stage.set((workflow, stage))


def leave_stage(token: contextvars.Token[tuple[str, str] | None]) -> None:
    current_stage.reset(token)
    with _stages_lock:
        state.stages_open -= 1


def _langfuse_exporter(env: Mapping[str, str]) -> tuple[SpanExporter, str]:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    host = env.get("LANGFUSE_HOST") or env.get("LANGFUSE_BASE_URL") or LANGFUSE_CLOUD
    endpoint = host.rstrip("/") + LANGFUSE_PATH
    credentials = f"{env['LANGFUSE_PUBLIC_KEY']}:{env['LANGFUSE_SECRET_KEY']}"
    token = base64.b64encode(credentials.encode()).decode()
    return OTLPSpanExporter(
        endpoint=endpoint, headers={"Authorization": f"Basic {token}"}
    ), endpoint


def _parse_headers(text: str) -> dict[str, str]:
    """``OTEL_EXPORTER_OTLP_HEADERS`` format: ``key=value,key2=value2`` (URL-encoded)."""
    from urllib.parse import unquote

    headers = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            headers[unquote(key.strip()).lower()] = unquote(value.strip())
    return headers


def _otlp_exporter(env: Mapping[str, str]) -> tuple[SpanExporter, str] | None:
    endpoint = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    if not endpoint:
        base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        if not base:
            return None
        # As the specification says: the generic endpoint gets the signal's path.
        endpoint = base.rstrip("/") + "/v1/traces"
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    headers = _parse_headers(
        env.get("OTEL_EXPORTER_OTLP_TRACES_HEADERS") or env.get("OTEL_EXPORTER_OTLP_HEADERS", "")
    )
    # Timeout, compression and certificates come from the standard
    # OTEL_EXPORTER_OTLP_* variables, read by the exporter itself.
    return OTLPSpanExporter(endpoint=endpoint, headers=headers or None), endpoint


def init_tracing(
    service_name: str = "hypertool",
    *,
    exporter: SpanExporter | None = None,
    env: Mapping[str, str] | None = None,
    set_global: bool = True,
) -> TracingState:
    """Configure span export once per process; returns what was configured.

    ``exporter`` overrides the environment (tests, custom backends).
    ``set_global`` also installs the provider as OpenTelemetry's global one,
    so other instrumentations' spans nest with ours.
    """
    env = os.environ if env is None else env
    destination = "custom exporter"
    if exporter is None:
        if env.get("LANGFUSE_PUBLIC_KEY") and env.get("LANGFUSE_SECRET_KEY"):
            exporter, destination = _langfuse_exporter(env)
        else:
            found = _otlp_exporter(env)
            if found is None:
                log.warning(
                    "tracing is not configured: spans are not exported (set "
                    "OTEL_EXPORTER_OTLP_ENDPOINT, or LANGFUSE_PUBLIC_KEY and "
                    "LANGFUSE_SECRET_KEY); metrics are recorded as usual"
                )
                state.provider, state.exporter, state.destination = None, None, "none"
                state.tracer = None
                return state
            exporter, destination = found
    shutdown_tracing()
    provider = TracerProvider(
        resource=Resource.create(
            {
                "service.name": env.get("OTEL_SERVICE_NAME", service_name),
                "service.version": __version__,
            }
        )
    )
    provider.add_span_processor(PersonaSpanProcessor())
    provider.add_span_processor(BatchSpanProcessor(exporter))
    if set_global:
        trace.set_tracer_provider(provider)
    state.provider, state.exporter, state.destination = provider, exporter, destination
    state.tracer = None
    state.capture_content = env.get(CAPTURE_CONTENT_ENV, "").lower() in ("1", "true", "yes")
    log.info("tracing: exporting spans to %s", destination)
    return state


def get_tracer() -> trace.Tracer:
    """Our tracer: from the configured provider, else OpenTelemetry's global one
    (a proxy that stays a no-op until the host app configures a provider).

    Cached: creating a tracer costs tens of microseconds, more than a span.
    """
    tracer = state.tracer
    if tracer is None:
        if state.provider is None and not state.auto_tried and _configured(os.environ):
            state.auto_tried = True  # the environment names a backend: set it up once
            init_tracing()
        if state.provider is not None:
            tracer = state.provider.get_tracer(INSTRUMENTATION, __version__)
        else:
            tracer = trace.get_tracer(INSTRUMENTATION, __version__)
        state.tracer = tracer
    return tracer


def capture_content() -> bool:
    return state.capture_content


def deprecated_genai_attributes() -> bool:
    """Whether spans carry the GenAI conventions' deprecated names beside the
    current ones (``gen_ai.system`` beside ``gen_ai.provider.name``): asked
    for with ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai/dup``, the opt-in's
    ``/dup`` form that the HTTP and database migrations use, for a backend
    that reads only the old name."""
    values = os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN", "")
    return "gen_ai/dup" in {value.strip() for value in values.split(",")}


def genai_cost_attributes(cost_usd: float | None) -> dict[str, str]:
    """A call's cost where Langfuse reads it (``cost_details``), when known."""
    if cost_usd is None:
        return {}
    import json

    return {"langfuse.observation.cost_details": json.dumps({"total": cost_usd})}


#: Longest prompt or completion text put on a span when capture is on.
MAX_CAPTURED_CHARS = 8192


def captured_text(value: object) -> str:
    """A prompt or completion as a span attribute: itself when a string, else
    JSON (a messages list), cut at ``MAX_CAPTURED_CHARS``."""
    if not isinstance(value, str):
        import json

        value = json.dumps(value, default=str, ensure_ascii=False)
    return value[:MAX_CAPTURED_CHARS]


def trace_id_of(span: trace.Span) -> str | None:
    """Hex trace id of a recorded span, for exemplars; None for a no-op span or one
    that is not sampled (its trace is never exported, so a link would be dead)."""
    context = span.get_span_context()
    if not context.is_valid or not context.trace_flags.sampled:
        return None
    return format(context.trace_id, "032x")


def current_trace_id() -> str | None:
    """Hex trace id of the current span, or None outside a recorded span."""
    return trace_id_of(trace.get_current_span())


def _configured(env: Mapping[str, str]) -> bool:
    """Whether the environment names a span backend (Langfuse or any OTLP one)."""
    langfuse = env.get("LANGFUSE_PUBLIC_KEY") and env.get("LANGFUSE_SECRET_KEY")
    otlp = env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    return bool(langfuse or otlp)


def flush(timeout_millis: int = 10_000) -> bool:
    """Export every finished span now; True when all were exported in time.

    Returns within ``timeout_millis`` (and a few milliseconds) whatever the
    network does: the SDK's own flush can wait on an exporter's HTTP timeout,
    so it runs in a daemon thread that is left to finish on its own.
    """
    provider = state.provider
    if provider is None:
        return True
    done: list[bool] = []
    worker = threading.Thread(
        target=lambda: done.append(provider.force_flush(timeout_millis)),
        name="span-flush",
        daemon=True,
    )
    worker.start()
    worker.join(timeout_millis / 1000.0)
    return bool(done and done[0])


def shutdown_tracing() -> None:
    """Flush and stop the exporter (also runs at interpreter exit)."""
    if state.provider is not None:
        state.provider.shutdown()
        state.provider = None
        state.tracer = None


atexit.register(shutdown_tracing)


__all__ = [
    "CAPTURE_CONTENT_ENV",
    "LANGFUSE_PATH",
    "MAX_CAPTURED_CHARS",
    "PersonaSpanProcessor",
    "TracingState",
    "capture_content",
    "captured_text",
    "current_chatmode",
    "current_persona",
    "current_stage",
    "current_trace_id",
    "enter_stage",
    "flush",
    "get_tracer",
    "identity_attributes",
    "init_tracing",
    "leave_stage",
    "metadata_attributes",
    "shutdown_tracing",
    "state",
    "trace_id_of",
]
