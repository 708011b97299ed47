"""The vocabulary and the field validators every event is built from.

Limits, reject reasons, gate results, token types and reserved label values
are defined here once; each validator checks one kind of field and raises
``EventError`` naming the field and the offending value, so a user can fix
the producer. ``events`` builds the typed events from these.

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
#: Largest provider-reported cost accepted for one event, in US dollars.
MAX_USD = 1_000_000.0

#: Reasons an event is rejected: the ``reason`` label of the rejects counter.
MALFORMED = "malformed"
UNKNOWN_TYPE = "unknown_type"
INVALID_FIELD = "invalid_field"
REJECT_REASONS = (MALFORMED, UNKNOWN_TYPE, INVALID_FIELD)
#: Quality-gate verdicts.
PASSED = "passed"
FAILED = "failed"
GATE_RESULTS = (PASSED, FAILED)
#: Kinds of tokens (the ``token_type`` label's values). In events and APIs,
#: ``input_tokens`` counts every prompt token, cache reads and writes included,
#: and ``output_tokens`` every completion token, reasoning included (OpenAI's
#: and genai-prices' convention); on the metric the five types are disjoint,
#: so summing over ``token_type`` counts each billable token once.
TOKEN_TYPES = ("input", "output", "cache_read", "cache_write", "reasoning")
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


def _bounded(field: str, value: Any, kind: str, maximum: float) -> float:
    """A finite number from 0 to ``maximum``; refused as "must be ``kind``"
    (a number of seconds, of US dollars) when it is not a number at all."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise EventError(field, value, f"must be {kind}")
    try:
        number = float(value)
    except ValueError:
        raise EventError(field, value, f"must be {kind}") from None
    if not math.isfinite(number):
        raise EventError(field, value, "must be finite")
    if number < 0:
        raise EventError(field, value, "must not be negative")
    if number > maximum:
        raise EventError(field, value, f"must be at most {maximum:.0f}")
    return number


def seconds_value(field: str, value: Any, *, maximum: float = MAX_SECONDS) -> float:
    """Validate a finite, non-negative duration in seconds."""
    return _bounded(field, value, "a number of seconds", maximum)


def money_value(field: str, value: Any, *, maximum: float = MAX_USD) -> float | None:
    """Validate an amount of US dollars (a provider-reported cost); absent is ``None``."""
    if value is None:
        return None
    return _bounded(field, value, "a number of US dollars", maximum)


def part_value(field: str, part: int, whole_field: str, whole: int) -> int:
    """Check that a count that is part of another (cache tokens of the prompt,
    reasoning tokens of the completion) does not exceed it."""
    if part > whole:
        raise EventError(
            field,
            part,
            f"is part of {whole_field} and must not exceed it ({whole_field} is {whole})",
        )
    return part


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


__all__ = [
    "FAILED",
    "GATE_RESULTS",
    "INVALID_FIELD",
    "MALFORMED",
    "MAX_LABEL_LENGTH",
    "MAX_SECONDS",
    "MAX_TOKENS",
    "MAX_USD",
    "NO_PERSONA",
    "OVERFLOW_VALUE",
    "PASSED",
    "REJECT_REASONS",
    "TOKEN_TYPES",
    "UNKNOWN_TYPE",
    "EventError",
    "count_value",
    "flag_value",
    "gate_value",
    "label_value",
    "money_value",
    "normalize_persona",
    "part_value",
    "seconds_value",
    "timestamp_value",
    "trace_id_value",
]
