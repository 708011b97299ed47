"""OpenTelemetry spans as events: what an instrumented LLM app's spans mean here.

A span arrives as a ``SpanRecord`` (``http.otlp`` decodes OTLP into them) and
leaves as events built through each event class's ``parse``, the same
validation every other input gets (a call whose label values were seen
before: from their validated form, its numbers checked as ``parse`` would
take them, ``label_forms``; a fifth of a span's mapping):

- a GenAI span (``gen_ai.*``, ``llm.*`` or a Langfuse ``generation``) with
  usage becomes ``TokensUsed``; one that is an LLM call (an operation such as
  ``chat``, or a span naming a model) also ``LLMCallFinished``, its duration
  the span's, ``error.type`` from the span or its error status, and usage
  unknown (never estimated) when it reported none;
- our own stage spans (``hypertool.stage.name``) become ``StageFinished``.

What each library's attributes hold is declared as data in
``genai_conventions`` (the GenAI conventions old and new, OpenInference,
OpenLLMetry, OpenLIT, LiteLLM, logfire, Langfuse, the vendor SDKs) and read
through ``genai_usage``: input counts every prompt token and output every
completion token, as the conventions say, whatever way a library split them.
Persona and chat mode come from ordered attribute lists (span, then resource),
else ``unknown`` / ``default``: a span is never dropped for lacking them.
Prompt and completion attributes are never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .events import Event, LLMCallFinished, StageFinished, TokensUsed, from_validated
from .fields import EventError, trace_id_value
from .genai_conventions import (
    CALL_MARKERS,
    LLM_OPERATIONS,
    MODELS,
    OPENINFERENCE_CALLS,
    OPENINFERENCE_KIND,
    OPERATIONS,
    PROVIDERS,
    REPORTED,
    RESPONSE_IDS,
    USAGE_SPANS,
)
from .genai_usage import library_of, read_cost, read_usage
from .genai_work import work_events
from .label_forms import LabelForms, plain_counts, plain_dollars, plain_seconds, plain_time
from .span_sources import DEFAULT_CHATMODE_ATTRIBUTES, DEFAULT_PERSONA_ATTRIBUTES, SpanMapping

#: Where the model, provider, operation and response id are looked for.
MODEL_ATTRIBUTES = tuple(row.attribute for row in MODELS)
PROVIDER_ATTRIBUTES = tuple(row.attribute for row in PROVIDERS)
OPERATION_ATTRIBUTES = tuple(row.attribute for row in OPERATIONS)
RESPONSE_ID_ATTRIBUTES = tuple(row.attribute for row in RESPONSE_IDS)
#: OTLP status codes.
STATUS_ERROR = 2


@dataclass(slots=True)
class SpanRecord:
    """One finished span, decoded from OTLP: ids as lowercase hex."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    resource: dict[str, Any]
    status_code: int = 0
    status_message: str = ""
    #: The span's events that mean something here (evaluation results), as
    #: (name, attributes).
    events: tuple[tuple[str, dict[str, Any]], ...] = ()
    #: The instrumentation scope's name: which library made the span.
    scope: str = ""

    @property
    def key(self) -> str:
        """What makes a re-sent span count once: its end time and ids."""
        return span_key(self.trace_id, self.span_id, self.end_ns)


def span_key(trace_id: str, span_id: str, end_ns: int) -> str:
    """A span's delivery key: its end time (16 hex digits), then its trace
    and span ids. A re-sent span has the same three. The time comes first
    because the journal keeps delivery keys in a B-tree: trace ids are
    random, so keys led by them land on a random page each, and a commit of
    an export's 512 spans wrote some 500 pages (2 MB) to the WAL; led by
    the time, an export's keys fall together at the end of the tree, a few
    pages a commit."""
    return f"span:{end_ns & 0xFFFFFFFFFFFFFFFF:016x}{trace_id}{span_id}"


class SpanIdentity(Protocol):
    """What counting a span's events once reads of it (``lineage``, and the
    recording of a request): a ``SpanRecord``, or the compact form a worker
    process sends (``http.span_mapping.SpanIds``)."""

    @property
    def trace_id(self) -> str: ...
    @property
    def span_id(self) -> str: ...
    @property
    def parent_id(self) -> str | None: ...
    @property
    def end_ns(self) -> int: ...
    @property
    def scope(self) -> str: ...
    @property
    def key(self) -> str: ...


def _first(span: SpanRecord, names: tuple[str, ...]) -> str | None:
    """The first of ``names`` the span (then its resource) has as a name: a
    non-empty string, or a whole number written out; other values are passed
    over, never turned into a label by their ``repr``."""
    for attributes in (span.attributes, span.resource):
        for name in names:
            value = attributes.get(name)
            if value is None:
                continue
            if type(value) is str:
                if value:
                    return value
            elif isinstance(value, int) and not isinstance(value, bool):
                return str(value)
    return None


def _label(span: SpanRecord, names: tuple[str, ...], default: str) -> str:
    value = _first(span, names)
    return default if value is None else value


def persona_of(record: Any, mapping: SpanMapping) -> str:
    """The persona a span (or any record with ``attributes`` and
    ``resource``) names, by the mapping's attribute list; ``unknown``."""
    return _label(record, mapping.persona_attributes, "unknown")


def span_events(span: SpanRecord, mapping: SpanMapping, received: float) -> list[Event]:
    """The events a span stands for (none for spans that are neither GenAI
    calls nor our stages); ``EventError`` naming the attribute when its
    values cannot be counted, in which case the span records nothing."""
    attributes = span.attributes
    if span.end_ns < span.start_ns:
        raise EventError("endTimeUnixNano", span.end_ns, "is before startTimeUnixNano")
    duration = (span.end_ns - span.start_ns) / 1e9
    ts = span.end_ns / 1e9
    persona = _label(span, mapping.persona_attributes, "unknown")
    trace_id = span.trace_id if len(span.trace_id) == 32 else None
    stage = attributes.get("hypertool.stage.name")
    if stage is not None:
        raw = {
            "workflow": attributes.get("hypertool.workflow.name", "unknown"),
            "stage": stage,
            "persona": persona,
            "duration_seconds": duration,
            "gate": attributes.get("hypertool.quality_gate.result"),  # passed/failed, checked
            "ts": ts,
            "trace_id": trace_id,
        }
        return [StageFinished.parse(raw, received), *work_events(span, persona, received)]
    work = work_events(span, persona, received)
    provider = _first(span, PROVIDER_ATTRIBUTES)
    usage = read_usage(span, provider)
    operation = _first(span, OPERATION_ATTRIBUTES)
    model = _first(span, MODEL_ATTRIBUTES)
    error_type = _first(span, ("error.type",))
    if error_type is None and span.status_code == STATUS_ERROR:
        error_type = "_OTHER"  # the conventions' value when the type is not known
    is_call = _is_call(span, operation, model)
    later = USAGE_SPANS.get(library_of(span) or "")
    if later is not None:
        marker, value, duration_attribute = later
        if attributes.get(marker) == value:  # the usage half of a streamed call
            is_call = usage is not None
            duration = _seconds(attributes.get(duration_attribute), duration)
        elif usage is None and error_type is None and response_id(span) is None:
            is_call = False  # the request half: its usage span follows
    cost = read_cost(span)
    if usage is None and cost is not None and cost[1] == REPORTED:
        usage = {}  # a call whose cost was reported without its tokens (by hand, often)
    if usage is None and not is_call:
        return work
    chatmode = _label(span, mapping.chatmode_attributes, "default")
    labels = (persona, "unknown" if model is None else model, operation or "chat", provider)
    events: list[Event] = []
    if usage is not None:
        events.append(_tokens_used(labels, chatmode, usage, cost, ts, trace_id, received))
    if is_call:
        unknown = not usage and error_type is None
        events.append(_call(labels, duration, error_type, unknown, ts, trace_id, received))
    return [*events, *work]


#: What the label values of the spans mapped in this process became
#: (``label_forms``): a call's persona, model, operation and provider, and
#: its chat mode or error type, keyed by their event class and raw values.
_FORMS = LabelForms()


def _raw(
    labels: tuple[str, str, str, str | None], ts: float, trace_id: str | None, **more: Any
) -> dict[str, Any]:
    """A call's raw values for ``parse``: what its usage and its call share, and ``more``."""
    persona, model, operation, provider = labels
    common = {"persona": persona, "model": model, "operation": operation, "provider": provider}
    return {**common, "ts": ts, "trace_id": trace_id, **more}


def _tokens_used(
    labels: tuple[str, str, str, str | None],
    chatmode: str,
    usage: dict[str, Any],
    cost: tuple[Any, str] | None,
    ts: float,
    trace_id: str | None,
    received: float,
) -> TokensUsed:
    """A call's ``TokensUsed``: built from its label values' validated form
    when they were seen and its numbers are as validation takes them, else
    validated whole (``TokensUsed.parse``, which names what is wrong)."""
    counts = (
        usage.get("input", 0),
        usage.get("output", 0),
        usage.get("cache_read", 0),
        usage.get("cache_write", 0),
        usage.get("reasoning", 0),
    )
    reported = estimate = None
    if cost is not None:
        if cost[1] == REPORTED:
            reported = cost[0]
        else:
            estimate = cost[0]
    key = (TokensUsed, *labels, chatmode)
    form = _FORMS.seen(key)
    if (
        form is not None
        and plain_counts(*counts)
        and plain_dollars(reported)
        and plain_dollars(estimate)
        and plain_time(ts, received)
    ):
        persona, model, operation, provider, chatmode = form
        trace_id = trace_id_value("trace_id", trace_id)
        input_tokens, output_tokens, cache_read, cache_write, reasoning = counts
        # fmt: off
        values = (persona, model, input_tokens, output_tokens, chatmode, ts, trace_id, cache_read,
                  cache_write, reasoning, reported, operation, provider, None, None, estimate)
        # fmt: on
        return from_validated(TokensUsed, values)
    raw = _raw(
        labels,
        ts,
        trace_id,
        chatmode=chatmode,
        input_tokens=counts[0],
        output_tokens=counts[1],
        cache_read_tokens=counts[2],
        cache_write_tokens=counts[3],
        reasoning_tokens=counts[4],
        cost_usd=reported,
        cost_estimate_usd=estimate,
    )
    event = TokensUsed.parse(raw, received)
    form = (event.persona, event.model, event.operation, event.provider, event.chatmode)
    _FORMS.remember(key, form)
    return event


def _call(
    labels: tuple[str, str, str, str | None],
    duration: float,
    error_type: str | None,
    usage_unknown: bool,
    ts: float,
    trace_id: str | None,
    received: float,
) -> LLMCallFinished:
    """A call's ``LLMCallFinished``, as ``_tokens_used`` makes its tokens."""
    key = (LLMCallFinished, *labels, error_type)
    form = _FORMS.seen(key)
    if form is not None and plain_seconds(duration) and plain_time(ts, received):
        persona, model, operation, provider, error_type = form
        trace_id = trace_id_value("trace_id", trace_id)
        # fmt: off
        values = (persona, model, duration, error_type, ts, trace_id, usage_unknown, operation,
                  provider, None)
        # fmt: on
        return from_validated(LLMCallFinished, values)
    raw = _raw(
        labels,
        ts,
        trace_id,
        duration_seconds=duration,
        error_type=error_type,
        usage_unknown=usage_unknown,
    )
    event = LLMCallFinished.parse(raw, received)
    form = (event.persona, event.model, event.operation, event.provider, event.error_type)
    _FORMS.remember(key, form)
    return event


def _is_call(span: SpanRecord, operation: str | None, model: str | None) -> bool:
    """Whether the span is a call to a model: an LLM operation, a marker
    (``CALL_MARKERS``), or a span naming a model and no operation (but never
    an OpenInference chain or agent, which name the model they drive)."""
    if operation in LLM_OPERATIONS:
        return True
    attributes = span.attributes
    for name, value, _ in CALL_MARKERS:
        if attributes.get(name) == value:
            return True
    kind = attributes.get(OPENINFERENCE_KIND)
    if kind is not None:
        return kind in OPENINFERENCE_CALLS
    return operation is None and model is not None


def response_id(span: SpanRecord) -> str | None:
    """The provider's id of the response the span describes, when it names one."""
    return _first(span, RESPONSE_ID_ATTRIBUTES)


def _seconds(value: Any, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1e9:
        return float(value)
    return default


__all__ = [
    "DEFAULT_CHATMODE_ATTRIBUTES",
    "DEFAULT_PERSONA_ATTRIBUTES",
    "LLM_OPERATIONS",
    "SpanIdentity",
    "SpanMapping",
    "SpanRecord",
    "persona_of",
    "read_usage",
    "response_id",
    "span_events",
    "span_key",
]
