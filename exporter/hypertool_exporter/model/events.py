"""The event model: every observation enters the exporter as one of these.

Raw input (CLI arguments, JSON from the journal or HTTP ingest, in-process
calls, OTLP spans) becomes a typed event here, through each class's
``parse`` (or ``parse_event`` for JSON with a ``type``), and nowhere else.
The field validators live in ``fields``; a failure raises ``EventError``
naming the field and the offending value.

Imports are stdlib only: the short-lived CLI validates with this module and
must start fast.
"""

from __future__ import annotations

from collections import namedtuple

from .fields import (
    MALFORMED,
    UNKNOWN_TYPE,
    EventError,
    count_value,
    flag_value,
    gate_value,
    label_value,
    seconds_value,
    timestamp_value,
    trace_id_value,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows CLI start-up
    from typing import Any


class _Typed:
    """Equality and hashing that include the event's type.

    Events are named tuples: immutable, and built in about 0.2 us, which the
    in-process hot path needs (a slotted class with ``__setattr__`` guards
    costs four times as much). Plain tuple equality would call two events of
    different types with equal fields equal; this mixin does not.
    """

    __slots__ = ()
    TYPE = ""
    _fields: tuple[str, ...]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and tuple.__eq__(self, other)  # type: ignore[arg-type]

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((type(self), tuple(self)))  # type: ignore[arg-type]


class PersonaSwitched(
    _Typed,
    namedtuple(
        "PersonaSwitched",
        ("to_persona", "chatmode", "from_persona", "session", "ts"),
        defaults=("default", None, "default", 0.0),
    ),
):
    """A session entered ``to_persona`` in ``chatmode``.

    ``from_persona`` is optional: when absent the fold uses the persona the
    session was in, or ``none`` on its first switch.
    """

    __slots__ = ()
    TYPE = "persona_switched"

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> PersonaSwitched:
        from_persona = raw.get("from_persona")
        return cls(
            to_persona=label_value("to_persona", raw.get("to_persona"), persona=True),
            chatmode=label_value("chatmode", raw.get("chatmode", "default")),
            from_persona=None
            if from_persona is None
            else label_value("from_persona", from_persona, persona=True),
            session=label_value("session", raw.get("session", "default")),
            ts=timestamp_value("ts", raw.get("ts")),
        )


class TokensUsed(
    _Typed,
    namedtuple(
        "TokensUsed",
        ("persona", "model", "input_tokens", "output_tokens", "chatmode", "ts", "trace_id"),
        defaults=(0, 0, "default", 0.0, None),
    ),
):
    """A persona used tokens of a model; priced and charged to its budget by the fold."""

    __slots__ = ()
    TYPE = "tokens_used"

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> TokensUsed:
        return cls(
            persona=label_value("persona", raw.get("persona"), persona=True),
            model=label_value("model", raw.get("model")),
            input_tokens=count_value("input_tokens", raw.get("input_tokens", 0)),
            output_tokens=count_value("output_tokens", raw.get("output_tokens", 0)),
            chatmode=label_value("chatmode", raw.get("chatmode", "default")),
            ts=timestamp_value("ts", raw.get("ts")),
            trace_id=trace_id_value("trace_id", raw.get("trace_id")),
        )


class StageFinished(
    _Typed,
    namedtuple(
        "StageFinished",
        ("workflow", "stage", "persona", "duration_seconds", "gate", "ts", "trace_id"),
        defaults=(None, 0.0, None),
    ),
):
    """A workflow stage ended; ``gate`` is the quality-gate verdict, if one was checked."""

    __slots__ = ()
    TYPE = "stage_finished"

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> StageFinished:
        return cls(
            workflow=label_value("workflow", raw.get("workflow")),
            stage=label_value("stage", raw.get("stage")),
            persona=label_value("persona", raw.get("persona"), persona=True),
            duration_seconds=seconds_value("duration_seconds", raw.get("duration_seconds")),
            gate=gate_value("gate", raw.get("gate")),
            ts=timestamp_value("ts", raw.get("ts")),
            trace_id=trace_id_value("trace_id", raw.get("trace_id")),
        )


class LLMCallFinished(
    _Typed,
    namedtuple(
        "LLMCallFinished",
        (
            "persona",
            "model",
            "duration_seconds",
            "error_type",
            "ts",
            "trace_id",
            "usage_unknown",
        ),
        defaults=(None, 0.0, None, False),
    ),
):
    """An LLM call returned or failed. ``error_type`` is set when it failed.

    Tokens are reported separately as ``TokensUsed`` so that a call's usage
    and its latency can come from different places (streaming, batch APIs).
    ``usage_unknown`` marks a successful call whose response carried no token
    usage: it is counted, never estimated.
    """

    __slots__ = ()
    TYPE = "llm_call_finished"

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> LLMCallFinished:
        error_type = raw.get("error_type")
        return cls(
            persona=label_value("persona", raw.get("persona"), persona=True),
            model=label_value("model", raw.get("model")),
            duration_seconds=seconds_value("duration_seconds", raw.get("duration_seconds")),
            error_type=None if error_type is None else label_value("error_type", error_type),
            ts=timestamp_value("ts", raw.get("ts")),
            trace_id=trace_id_value("trace_id", raw.get("trace_id")),
            usage_unknown=flag_value("usage_unknown", raw.get("usage_unknown")),
        )


Event = PersonaSwitched | TokensUsed | StageFinished | LLMCallFinished

#: ``from_validated(TokensUsed, (persona, model, ...))``: an event from field
#: values that were validated before, all given, in field order. It skips the
#: named tuple's Python-level constructor (a third of the in-process hot
#: path's cost); only code that holds values from an earlier ``parse`` may
#: use it.
from_validated = tuple.__new__

EVENT_CLASSES: dict[str, type[Event]] = {
    cls.TYPE: cls for cls in (PersonaSwitched, TokensUsed, StageFinished, LLMCallFinished)
}
#: Every event type name, in a fixed order (the ``type`` label's values).
EVENT_TYPES: tuple[str, ...] = tuple(EVENT_CLASSES)


def parse_event(raw: Any) -> Event:
    """Validate one raw event (a dict with a ``type`` key) into a typed event."""
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
    return cls.parse(raw)


def event_to_dict(event: Event) -> dict[str, Any]:
    """The JSON form of an event, as stored in the journal and sent to ingest."""
    body: dict[str, Any] = {"type": event.TYPE}
    for name, value in zip(event._fields, event, strict=True):
        if value is not None and value is not False:
            body[name] = value
    return body


__all__ = [
    "EVENT_CLASSES",
    "EVENT_TYPES",
    "Event",
    "LLMCallFinished",
    "PersonaSwitched",
    "StageFinished",
    "TokensUsed",
    "event_to_dict",
    "from_validated",
    "parse_event",
]
