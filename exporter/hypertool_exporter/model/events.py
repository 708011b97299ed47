"""The event model: every observation enters the exporter as one of these.

Raw input (CLI arguments, JSON from the journal or HTTP ingest, in-process
calls) is validated here and nowhere else. A failure raises ``EventError``
naming the field and the offending value, so a user can fix the producer.

Imports are stdlib only: the short-lived CLI validates with this module and
must start fast.
"""

from __future__ import annotations

import math
import re
import time
from collections import namedtuple

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows CLI start-up
    from typing import Any

#: Longest label value accepted. Longer values are almost always a prompt
#: or an id leaking into a label.
MAX_LABEL_LENGTH = 128
#: Largest token count accepted in one event (a sanity bound, not a budget).
MAX_TOKENS = 100_000_000
#: Longest duration accepted in one event: 31 days.
MAX_SECONDS = 31 * 24 * 3600.0

#: Reasons an event is rejected: the ``reason`` label of the rejects counter.
MALFORMED = "malformed"
UNKNOWN_TYPE = "unknown_type"
INVALID_FIELD = "invalid_field"
REJECT_REASONS = (MALFORMED, UNKNOWN_TYPE, INVALID_FIELD)
#: Quality-gate verdicts.
PASSED = "passed"
FAILED = "failed"
GATE_RESULTS = (PASSED, FAILED)
#: Kinds of tokens (the ``token_type`` label's values).
TOKEN_TYPES = ("input", "output")
#: Label value used when a label's cap of distinct values is reached.
OVERFLOW_VALUE = "__other__"
#: ``from_persona`` on the first switch of a session.
NO_PERSONA = "none"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PERSONA_SEPARATORS = re.compile(r"[\s_]+")


class EventError(ValueError):
    """An event failed validation. ``field`` and ``value`` say where and what."""

    def __init__(self, field: str, value: Any, reason: str, *, code: str = INVALID_FIELD):
        self.field = field
        self.value = value
        self.reason = reason
        self.code = code
        super().__init__(f"{field}: {reason} (got {value!r})")


def normalize_persona(value: str) -> str:
    """Canonical persona name: trimmed, lower case, spaces and underscores as hyphens.

    "Backend Engineer", "backend_engineer" and "backend-engineer" are one
    persona; without this, dashboards show them as three.
    """
    return _PERSONA_SEPARATORS.sub("-", value.strip()).lower()


def label_value(field: str, value: Any, *, persona: bool = False) -> str:
    """Validate a value that will become a metric label."""
    if not isinstance(value, str):
        raise EventError(field, value, "must be a string")
    if value.strip().startswith("__"):
        raise EventError(field, value, "must not start with '__' (reserved)")
    text = normalize_persona(value) if persona else value.strip()
    if not text:
        raise EventError(field, value, "must not be empty")
    if len(text) > MAX_LABEL_LENGTH:
        raise EventError(
            field, value[:40] + "...", f"must be at most {MAX_LABEL_LENGTH} characters"
        )
    if _CONTROL.search(text):
        raise EventError(field, value, "must not contain control characters")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise EventError(field, value, "must be valid UTF-8") from None
    return text


def count_value(field: str, value: Any, *, maximum: int = MAX_TOKENS) -> int:
    """Validate a non-negative whole count such as a token count."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise EventError(field, value, "must be a whole number")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise EventError(field, value, "must be a whole number") from None
    if isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise EventError(field, value, "must be a whole number")
        value = int(value)
    if value < 0:
        raise EventError(field, value, "must not be negative")
    if value > maximum:
        raise EventError(field, value, f"must be at most {maximum}")
    return value


def seconds_value(field: str, value: Any, *, maximum: float = MAX_SECONDS) -> float:
    """Validate a finite, non-negative duration in seconds."""
    if isinstance(value, bool):
        raise EventError(field, value, "must be a number of seconds")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise EventError(field, value, "must be a number of seconds") from None
    if not math.isfinite(number):
        raise EventError(field, value, "must be finite")
    if number < 0:
        raise EventError(field, value, "must not be negative")
    if number > maximum:
        raise EventError(field, value, f"must be at most {maximum:.0f}")
    return number


def timestamp_value(field: str, value: Any) -> float:
    """Validate a Unix timestamp; ``None`` means now."""
    if value is None:
        return time.time()
    number = seconds_value(field, value, maximum=1e11)
    return number


_HEX = frozenset("0123456789abcdef")


def trace_id_value(field: str, value: Any) -> str | None:
    """Validate an OpenTelemetry trace id (32 lower-case hex digits, not all zero).

    It becomes an exemplar, never a label: one per bucket, replaced by newer ones.
    """
    if value is None:
        return None
    if not isinstance(value, str) or len(value) != 32 or not _HEX.issuperset(value):
        raise EventError(field, value, "must be 32 lower-case hex digits")
    if value == "0" * 32:
        raise EventError(field, value, "must not be all zeros (an invalid trace)")
    return value


def flag_value(field: str, value: Any) -> bool:
    """Validate a true/false flag; absent means false."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    raise EventError(field, value, "must be true or false")


def gate_value(field: str, value: Any) -> str | None:
    """Validate a quality-gate verdict: passed, failed or absent (no gate)."""
    if value is None:
        return None
    if value is True:
        return PASSED
    if value is False:
        return FAILED
    if value in GATE_RESULTS:
        return value
    raise EventError(field, value, "must be 'passed' or 'failed'")


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
    "FAILED",
    "GATE_RESULTS",
    "INVALID_FIELD",
    "MALFORMED",
    "NO_PERSONA",
    "OVERFLOW_VALUE",
    "PASSED",
    "REJECT_REASONS",
    "TOKEN_TYPES",
    "UNKNOWN_TYPE",
    "Event",
    "EventError",
    "LLMCallFinished",
    "PersonaSwitched",
    "StageFinished",
    "TokensUsed",
    "count_value",
    "event_to_dict",
    "flag_value",
    "from_validated",
    "gate_value",
    "label_value",
    "normalize_persona",
    "parse_event",
    "seconds_value",
    "timestamp_value",
    "trace_id_value",
]
