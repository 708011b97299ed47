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

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_PERSONA_SEPARATORS = re.compile(r"[\s_]+")


class EventError(ValueError):
    """An event failed validation. ``field`` and ``value`` say where and what."""

    def __init__(self, field: str, value: Any, reason: str, *, code: str = "invalid_field"):
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
        return "passed"
    if value is False:
        return "failed"
    if value in ("passed", "failed"):
        return value
    raise EventError(field, value, "must be 'passed' or 'failed'")


class _Event:
    """Immutable value object: equality, hashing and repr from ``__slots__``.

    Hand-written rather than a dataclass: ``dataclasses`` pulls in
    ``inspect`` and ``typing``, which would double the start-up time of the
    recording CLI commands.
    """

    __slots__ = ()
    TYPE = ""

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._values() == self._values()

    def __hash__(self) -> int:
        return hash((type(self), self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _set(self, **values: object) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)


class PersonaSwitched(_Event):
    """A session entered ``to_persona`` in ``chatmode``.

    ``from_persona`` is optional: when absent the fold uses the persona the
    session was in, or ``none`` on its first switch.
    """

    __slots__ = ("chatmode", "from_persona", "session", "to_persona", "ts")
    TYPE = "persona_switched"

    def __init__(
        self,
        to_persona: str,
        chatmode: str = "default",
        from_persona: str | None = None,
        session: str = "default",
        ts: float = 0.0,
    ):
        self._set(
            to_persona=to_persona,
            chatmode=chatmode,
            from_persona=from_persona,
            session=session,
            ts=ts,
        )

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


class TokensUsed(_Event):
    """A persona used tokens of a model; priced and charged to its budget by the fold."""

    __slots__ = ("chatmode", "input_tokens", "model", "output_tokens", "persona", "trace_id", "ts")
    TYPE = "tokens_used"

    def __init__(
        self,
        persona: str,
        model: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        chatmode: str = "default",
        ts: float = 0.0,
        trace_id: str | None = None,
    ):
        self._set(
            persona=persona,
            model=model,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            chatmode=chatmode,
            ts=ts,
            trace_id=trace_id,
        )

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


class StageFinished(_Event):
    """A workflow stage ended; ``gate`` is the quality-gate verdict, if one was checked."""

    __slots__ = ("duration_seconds", "gate", "persona", "stage", "trace_id", "ts", "workflow")
    TYPE = "stage_finished"

    def __init__(
        self,
        workflow: str,
        stage: str,
        persona: str,
        duration_seconds: float,
        gate: str | None = None,
        ts: float = 0.0,
        trace_id: str | None = None,
    ):
        self._set(
            workflow=workflow,
            stage=stage,
            persona=persona,
            duration_seconds=duration_seconds,
            gate=gate,
            ts=ts,
            trace_id=trace_id,
        )

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


class LLMCallFinished(_Event):
    """An LLM call returned or failed. ``error_type`` is set when it failed.

    Tokens are reported separately as ``TokensUsed`` so that a call's usage
    and its latency can come from different places (streaming, batch APIs).
    ``usage_unknown`` marks a successful call whose response carried no token
    usage: it is counted, never estimated.
    """

    __slots__ = (
        "duration_seconds",
        "error_type",
        "model",
        "persona",
        "trace_id",
        "ts",
        "usage_unknown",
    )
    TYPE = "llm_call_finished"

    def __init__(
        self,
        persona: str,
        model: str,
        duration_seconds: float,
        error_type: str | None = None,
        ts: float = 0.0,
        trace_id: str | None = None,
        usage_unknown: bool = False,
    ):
        self._set(
            persona=persona,
            model=model,
            duration_seconds=duration_seconds,
            error_type=error_type,
            ts=ts,
            trace_id=trace_id,
            usage_unknown=usage_unknown,
        )

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

EVENT_CLASSES: dict[str, type[Event]] = {
    cls.TYPE: cls for cls in (PersonaSwitched, TokensUsed, StageFinished, LLMCallFinished)
}


def parse_event(raw: Any) -> Event:
    """Validate one raw event (a dict with a ``type`` key) into a typed event."""
    if not isinstance(raw, dict):
        raise EventError("event", raw, "must be a JSON object", code="malformed")
    kind = raw.get("type")
    cls = EVENT_CLASSES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise EventError(
            "type", kind, f"must be one of {', '.join(EVENT_CLASSES)}", code="unknown_type"
        )
    unknown = set(raw) - {"type", *cls.__slots__}
    if unknown:
        name = sorted(unknown)[0]
        raise EventError(name, raw[name], f"is not a field of {kind}")
    return cls.parse(raw)


def event_to_dict(event: Event) -> dict[str, Any]:
    """The JSON form of an event, as stored in the journal and sent to ingest."""
    body: dict[str, Any] = {"type": event.TYPE}
    for name in event.__slots__:
        value = getattr(event, name)
        if value is not None and value is not False:
            body[name] = value
    return body
