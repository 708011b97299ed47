"""The event model: every observation enters the exporter as one of these.

Raw input (CLI arguments, JSON from the journal or HTTP ingest, in-process
calls, OTLP spans) becomes a typed event through each class's ``parse`` (or
``parse_event`` for JSON with a ``type``), and nowhere else; a failure
raises ``EventError`` naming the field and the value (``fields``). The
events about work are ``work``'s. Stdlib only: the short-lived CLI
validates with this module and must start fast.
"""

from __future__ import annotations

from .eventbase import EventRecord, event_class, tuple_new
from .fields import (
    MALFORMED,
    RESERVED_PERSONAS,
    UNKNOWN_TYPE,
    EventError,
    flag_value,
    gate_value,
    label_value,
    money_value,
    optional_label,
    seconds_value,
    timestamp_value,
    token_counts,
    trace_id_value,
)
from .work import WORK_EVENTS, QualityScored, ToolCallFinished, WorkflowCharged, WorkflowRunFinished

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows CLI start-up
    from typing import Any


@event_class
class PersonaSwitched(EventRecord):
    """A session entered ``to_persona`` in ``chatmode``.

    ``from_persona`` is optional: when absent the fold uses the persona the
    session was in, or ``none`` on its first switch.
    """

    __slots__ = ()
    TYPE = "persona_switched"
    if TYPE_CHECKING:  # the accessors ``event_class`` makes, for the type checker
        to_persona: str
        chatmode: str
        from_persona: str | None
        session: str
        ts: float

    def __new__(
        cls,
        to_persona: str,
        chatmode: str = "default",
        from_persona: str | None = None,
        session: str = "default",
        ts: float = 0.0,
    ) -> PersonaSwitched:
        return tuple_new(cls, (to_persona, chatmode, from_persona, session, ts))

    @classmethod
    def parse(cls, raw: dict[str, Any], received: float | None = None) -> PersonaSwitched:
        from_persona = raw.get("from_persona")
        if isinstance(from_persona, str) and from_persona.strip().lower() in RESERVED_PERSONAS:
            from_persona = None  # "none": the session had no persona before
        return tuple_new(  # positional, in field order: no keyword call per event
            cls,
            (
                label_value("to_persona", raw.get("to_persona"), persona=True),
                label_value("chatmode", raw.get("chatmode", "default")),
                None
                if from_persona is None
                else label_value("from_persona", from_persona, persona=True),
                label_value("session", raw.get("session", "default")),
                timestamp_value("ts", raw.get("ts"), received),
            ),
        )


@event_class
class TokensUsed(EventRecord):
    """A persona used tokens of a model; priced and charged to its budget by the fold.

    ``input_tokens`` counts every prompt token; ``cache_read_tokens`` and
    ``cache_write_tokens`` are the parts of it read from or written to a
    prompt cache. ``output_tokens`` counts every completion token;
    ``reasoning_tokens`` is the part spent on reasoning. ``cost_usd``, when
    set, is the provider's own figure for the call and is used instead of an
    estimate. ``operation`` and ``provider`` (OpenTelemetry's
    ``gen_ai.operation.name`` and ``gen_ai.provider.name``) label the GenAI
    convention metrics; absent, they are ``chat`` and the provider genai-prices
    knows the model by. ``workflow`` and ``stage``: the workflow stage the
    call was made in, when it was made in one (cost and tokens per workflow
    and stage). ``cost_estimate_usd``: an instrumentation's own estimate,
    used only for a model with no price here (config or genai-prices).
    """

    __slots__ = ()
    TYPE = "tokens_used"
    if TYPE_CHECKING:  # the accessors ``event_class`` makes, for the type checker
        persona: str
        model: str
        input_tokens: int
        output_tokens: int
        chatmode: str
        ts: float
        trace_id: str | None
        cache_read_tokens: int
        cache_write_tokens: int
        reasoning_tokens: int
        cost_usd: float | None
        operation: str | None
        provider: str | None
        workflow: str | None
        stage: str | None
        cost_estimate_usd: float | None

    def __new__(
        cls,
        persona: str,
        model: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        chatmode: str = "default",
        ts: float = 0.0,
        trace_id: str | None = None,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        reasoning_tokens: int = 0,
        cost_usd: float | None = None,
        operation: str | None = None,
        provider: str | None = None,
        workflow: str | None = None,
        stage: str | None = None,
        cost_estimate_usd: float | None = None,
    ) -> TokensUsed:
        return tuple_new(
            cls,
            (
                persona,
                model,
                input_tokens,
                output_tokens,
                chatmode,
                ts,
                trace_id,
                cache_read_tokens,
                cache_write_tokens,
                reasoning_tokens,
                cost_usd,
                operation,
                provider,
                workflow,
                stage,
                cost_estimate_usd,
            ),
        )

    @classmethod
    def parse(cls, raw: dict[str, Any], received: float | None = None) -> TokensUsed:
        input_tokens, output_tokens, cache_read, cache_write, reasoning = token_counts(raw)
        workflow, stage = raw.get("workflow"), raw.get("stage")
        if (workflow is None) != (stage is None):
            named, missing = ("workflow", "stage") if stage is None else ("stage", "workflow")
            raise EventError(missing, None, f"goes with {named} (a workflow stage has both)")
        return tuple_new(  # positional, in field order: no keyword call per event
            cls,
            (
                label_value("persona", raw.get("persona"), persona=True),
                label_value("model", raw.get("model")),
                input_tokens,
                output_tokens,
                label_value("chatmode", raw.get("chatmode", "default")),
                timestamp_value("ts", raw.get("ts"), received),
                trace_id_value("trace_id", raw.get("trace_id")),
                cache_read,
                cache_write,
                reasoning,
                money_value("cost_usd", raw.get("cost_usd")),
                optional_label("operation", raw.get("operation")),
                optional_label("provider", raw.get("provider")),
                optional_label("workflow", workflow),
                optional_label("stage", stage),
                money_value("cost_estimate_usd", raw.get("cost_estimate_usd")),
            ),
        )


@event_class
class StageFinished(EventRecord):
    """A workflow stage ended; ``gate`` is the quality-gate verdict, if one was checked."""

    __slots__ = ()
    TYPE = "stage_finished"
    if TYPE_CHECKING:  # the accessors ``event_class`` makes, for the type checker
        workflow: str
        stage: str
        persona: str
        duration_seconds: float
        gate: str | None
        ts: float
        trace_id: str | None

    def __new__(
        cls,
        workflow: str,
        stage: str,
        persona: str,
        duration_seconds: float,
        gate: str | None = None,
        ts: float = 0.0,
        trace_id: str | None = None,
    ) -> StageFinished:
        return tuple_new(cls, (workflow, stage, persona, duration_seconds, gate, ts, trace_id))

    @classmethod
    def parse(cls, raw: dict[str, Any], received: float | None = None) -> StageFinished:
        return tuple_new(  # positional, in field order: no keyword call per event
            cls,
            (
                label_value("workflow", raw.get("workflow")),
                label_value("stage", raw.get("stage")),
                label_value("persona", raw.get("persona"), persona=True),
                seconds_value("duration_seconds", raw.get("duration_seconds")),
                gate_value("gate", raw.get("gate")),
                timestamp_value("ts", raw.get("ts"), received),
                trace_id_value("trace_id", raw.get("trace_id")),
            ),
        )


@event_class
class LLMCallFinished(EventRecord):
    """An LLM call returned or failed. ``error_type`` is set when it failed.

    Tokens are reported separately as ``TokensUsed`` so that a call's usage
    and its latency can come from different places (streaming, batch APIs).
    ``usage_unknown`` marks a successful call whose response carried no token
    usage: it is counted, never estimated. ``ttft_seconds``: for a streamed
    response, the time to its first chunk.
    """

    __slots__ = ()
    TYPE = "llm_call_finished"
    if TYPE_CHECKING:  # the accessors ``event_class`` makes, for the type checker
        persona: str
        model: str
        duration_seconds: float
        error_type: str | None
        ts: float
        trace_id: str | None
        usage_unknown: bool
        operation: str | None
        provider: str | None
        ttft_seconds: float | None

    def __new__(
        cls,
        persona: str,
        model: str,
        duration_seconds: float,
        error_type: str | None = None,
        ts: float = 0.0,
        trace_id: str | None = None,
        usage_unknown: bool = False,
        operation: str | None = None,
        provider: str | None = None,
        ttft_seconds: float | None = None,
    ) -> LLMCallFinished:
        return tuple_new(
            cls,
            (
                persona,
                model,
                duration_seconds,
                error_type,
                ts,
                trace_id,
                usage_unknown,
                operation,
                provider,
                ttft_seconds,
            ),
        )

    @classmethod
    def parse(cls, raw: dict[str, Any], received: float | None = None) -> LLMCallFinished:
        error_type = raw.get("error_type")
        ttft = raw.get("ttft_seconds")
        return tuple_new(  # positional, in field order: no keyword call per event
            cls,
            (
                label_value("persona", raw.get("persona"), persona=True),
                label_value("model", raw.get("model")),
                seconds_value("duration_seconds", raw.get("duration_seconds")),
                None if error_type is None else label_value("error_type", error_type),
                timestamp_value("ts", raw.get("ts"), received),
                trace_id_value("trace_id", raw.get("trace_id")),
                flag_value("usage_unknown", raw.get("usage_unknown")),
                optional_label("operation", raw.get("operation")),
                optional_label("provider", raw.get("provider")),
                None if ttft is None else seconds_value("ttft_seconds", ttft),
            ),
        )


Event = (
    PersonaSwitched
    | TokensUsed
    | StageFinished
    | LLMCallFinished
    | WorkflowRunFinished
    | ToolCallFinished
    | QualityScored
    | WorkflowCharged
)
if TYPE_CHECKING:
    #: An event class: its fields, defaults and ``parse`` (``event_class``).
    EventClass = type[EventRecord]

#: ``from_validated(TokensUsed, (persona, model, ...))``: an event from field
#: values validated before, all given, in field order. It skips the class's
#: Python constructor (a third of the in-process hot path's cost); only code
#: holding values from an earlier ``parse`` may use it.
from_validated = tuple.__new__

#: Where a ``TokensUsed`` event's optional fields begin, and those at their
#: defaults: a plain token event's, which the hot path, rows and batches speed.
TOKENS_OPTIONAL_FROM = TokensUsed._fields.index("trace_id")
_OPTIONAL = TokensUsed._fields[TOKENS_OPTIONAL_FROM:]
PLAIN_TOKENS_TAIL = tuple(TokensUsed._field_defaults[name] for name in _OPTIONAL)


EVENT_CLASSES: dict[str, type[Event]] = {
    cls.TYPE: cls
    for cls in (PersonaSwitched, TokensUsed, StageFinished, LLMCallFinished, *WORK_EVENTS)
}
#: Every event type name, in a fixed order (the ``type`` label's values).
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_CLASSES)


def parse_event(raw: Any, received: float | None = None) -> Event:
    """Validate one raw event (a dict with a ``type`` key) into a typed event.

    ``received``: the receiver's clock, for events that come from a producer
    (their timestamp must lie near it); ``None`` for journal replay.
    """
    if not isinstance(raw, dict):
        raise EventError("event", raw, "must be a JSON object", code=MALFORMED)
    kind = raw.get("type")
    cls = EVENT_CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EventError(
            "type", kind, f"must be one of {', '.join(EVENT_CLASSES)}", code=UNKNOWN_TYPE
        )
    unknown = set(raw) - {"type", *cls._fields}
    if unknown:
        name = sorted(unknown)[0]
        raise EventError(name, raw[name], f"is not a field of {kind}")
    return cls.parse(raw, received)


def event_to_dict(event: Event) -> dict[str, Any]:
    """The JSON form of an event, as stored in the journal and sent to ingest.

    Fields at their default are left out (``parse`` restores them), except the
    timestamp, whose absence would mean "now".
    """
    body: dict[str, Any] = {"type": event.TYPE}
    defaults = event._field_defaults
    for name, value in zip(event._fields, event, strict=True):
        if value is None or value is False:
            continue
        if name != "ts" and name in defaults and value == defaults[name]:
            continue
        body[name] = value
    return body


__all__ = [
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "PLAIN_TOKENS_TAIL",
    "TOKENS_OPTIONAL_FROM",
    "Event",
    "LLMCallFinished",
    "PersonaSwitched",
    "QualityScored",
    "StageFinished",
    "TokensUsed",
    "ToolCallFinished",
    "WorkflowCharged",
    "WorkflowRunFinished",
    "event_to_dict",
    "from_validated",
    "parse_event",
]
