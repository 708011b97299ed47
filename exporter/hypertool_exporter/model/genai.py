"""OpenTelemetry spans as events: what an instrumented LLM app's spans mean here.

A span arrives as a ``SpanRecord`` (``http.otlp`` decodes OTLP into them) and
leaves as events built through each event class's ``parse``, the same
validation every other input gets:

- a GenAI span (``gen_ai.*``, ``llm.*`` or a Langfuse ``generation``) with
  usage becomes ``TokensUsed``; one that is an LLM call (an operation such as
  ``chat``, or a span naming a model) also ``LLMCallFinished``, its duration
  the span's, ``error.type`` from the span or its error status, and usage
  unknown (never estimated) when it reported none;
- our own stage spans (``hypertool.stage.name``) become ``StageFinished``.

Both the current conventions (``gen_ai.provider.name``,
``gen_ai.usage.input_tokens``) and the older ones still emitted widely
(``gen_ai.system``, ``gen_ai.usage.prompt_tokens``, ``llm.usage.*``,
Langfuse's ``usage_details``) are read. Input counts every prompt token and
output every completion token, as the conventions say; an instrumentation
that reports cache tokens beyond its input (Anthropic's way) gets them added.
Persona and chat mode come from ordered attribute lists (span, then resource),
else ``unknown`` / ``default``: a span is never dropped for lacking them.
Prompt and completion attributes are never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import jsontext
from .events import Event, LLMCallFinished, StageFinished, TokensUsed
from .fields import EventError, count_value
from .genai_work import work_events

#: Where the persona and chat mode are looked for, first match wins.
DEFAULT_PERSONA_ATTRIBUTES = (
    "hypertool.persona",
    "gen_ai.agent.name",
    "langfuse.user.id",
    "user.id",
    "enduser.id",
)
DEFAULT_CHATMODE_ATTRIBUTES = (
    "hypertool.chatmode",
    "langfuse.session.id",
    "session.id",
    "gen_ai.conversation.id",
)
#: ``gen_ai.operation.name`` values that are calls to a model.
LLM_OPERATIONS = frozenset(
    ("chat", "text_completion", "generate_content", "embeddings", "completion", "responses")
)
#: Usage attributes by token kind, current conventions first.
USAGE_ATTRIBUTES = {
    "input": ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens", "llm.usage.prompt_tokens"),
    "output": (
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.usage.completion_tokens",
    ),
    "cache_read": ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens"),
    "cache_write": (
        "gen_ai.usage.cache_creation.input_tokens",
        "gen_ai.usage.cache_creation_input_tokens",
    ),
    "reasoning": (
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        "llm.usage.reasoning_tokens",
    ),
}
_USAGE_NAMES = frozenset(name for names in USAGE_ATTRIBUTES.values() for name in names)
MODEL_ATTRIBUTES = (
    "gen_ai.request.model",
    "gen_ai.response.model",
    "langfuse.observation.model.name",
)
PROVIDER_ATTRIBUTES = ("gen_ai.provider.name", "gen_ai.system")
LANGFUSE_USAGE = "langfuse.observation.usage_details"
LANGFUSE_COST = "langfuse.observation.cost_details"
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

    @property
    def key(self) -> str:
        """What makes a re-sent span count once: its trace and span ids."""
        return f"span:{self.trace_id}{self.span_id}"


@dataclass(frozen=True, slots=True)
class SpanMapping:
    """Where persona and chat mode come from (the config's ``otlp`` section)."""

    persona_attributes: tuple[str, ...] = DEFAULT_PERSONA_ATTRIBUTES
    chatmode_attributes: tuple[str, ...] = DEFAULT_CHATMODE_ATTRIBUTES


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


def _langfuse_details(span: SpanRecord, name: str) -> dict[str, Any]:
    raw = span.attributes.get(name)
    if not isinstance(raw, str):
        return {}
    details = jsontext.loads(name, raw)
    if not isinstance(details, dict):
        raise EventError(name, raw[:80], "must be a JSON object")
    return details


def read_usage(span: SpanRecord) -> dict[str, int] | None:
    """Token counts by kind (input, output, cache_read, cache_write,
    reasoning) the span reports, or ``None``; ``EventError`` naming the
    attribute for a count that is not a whole number from 0 up."""
    attributes = span.attributes
    found: dict[str, int] = {}
    present = _USAGE_NAMES.intersection(attributes)  # one pass in C: most spans have two
    for kind, names in USAGE_ATTRIBUTES.items() if present else ():
        for name in names:
            if name in present:
                found[kind] = count_value(name, attributes[name])
                break
    details = _langfuse_details(span, LANGFUSE_USAGE)
    for kind, names in (
        ("input", ("input", "prompt_tokens")),
        ("output", ("output", "completion_tokens")),
    ):
        for name in names:
            if kind not in found and name in details:
                found[kind] = count_value(f"{LANGFUSE_USAGE}.{name}", details[name])
    if "input" not in found and "output" not in found:
        return None
    cache = found.get("cache_read", 0) + found.get("cache_write", 0)
    if cache > found.get("input", 0):  # reported beside the input, not inside it
        found["input"] = found.get("input", 0) + cache
    return found


def _cost(span: SpanRecord) -> Any:
    """A provider's or SDK's cost for the call, when the span carries one."""
    cost = span.attributes.get("gen_ai.usage.cost")
    if cost is not None:
        return cost
    details = _langfuse_details(span, LANGFUSE_COST)
    if "total" in details or not details:
        return details.get("total")
    parts = list(details.values())
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in parts):
        raise EventError(LANGFUSE_COST, details, "must hold numbers of US dollars")
    return sum(parts)


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
    usage = read_usage(span)
    operation = _first(span, ("gen_ai.operation.name",))
    model = _first(span, MODEL_ATTRIBUTES)
    generation = attributes.get("langfuse.observation.type") == "generation"
    is_call = operation in LLM_OPERATIONS or generation or (operation is None and model is not None)
    if usage is None and not is_call:
        return work
    chatmode = _label(span, mapping.chatmode_attributes, "default")
    provider = _first(span, PROVIDER_ATTRIBUTES)
    common = {
        "persona": persona,
        "model": "unknown" if model is None else model,
        "ts": ts,
        "trace_id": trace_id,
        "operation": operation or "chat",
        "provider": provider,
    }
    events: list[Event] = []
    if usage is not None:
        raw = {
            **common,
            "chatmode": chatmode,
            "input_tokens": usage.get("input", 0),
            "output_tokens": usage.get("output", 0),
            "cache_read_tokens": usage.get("cache_read", 0),
            "cache_write_tokens": usage.get("cache_write", 0),
            "reasoning_tokens": usage.get("reasoning", 0),
            "cost_usd": _cost(span),
        }
        events.append(TokensUsed.parse(raw, received))
    if is_call:
        error_type = _first(span, ("error.type",))
        if error_type is None and span.status_code == STATUS_ERROR:
            error_type = "_OTHER"  # the conventions' value when the type is not known
        raw = {
            **common,
            "duration_seconds": duration,
            "error_type": error_type,
            "usage_unknown": usage is None and error_type is None,
        }
        events.append(LLMCallFinished.parse(raw, received))
    return [*events, *work]


__all__ = [
    "DEFAULT_CHATMODE_ATTRIBUTES",
    "DEFAULT_PERSONA_ATTRIBUTES",
    "LLM_OPERATIONS",
    "SpanMapping",
    "SpanRecord",
    "persona_of",
    "read_usage",
    "span_events",
]
