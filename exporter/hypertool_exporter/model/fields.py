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
#: How far ahead of the receiver's clock an event's timestamp may lie (clock skew).
MAX_FUTURE_SECONDS = 300.0
#: How far back an event's timestamp may lie: the journal's default retention.
MAX_PAST_SECONDS = 40 * 86400.0
#: Persona names that mean something else: the ``from_persona`` of a first switch.
RESERVED_PERSONAS = frozenset({"none"})

#: Reasons an event is rejected: the ``reason`` label of the rejects counter.
MALFORMED = "malformed"
UNKNOWN_TYPE = "unknown_type"
INVALID_FIELD = "invalid_field"
REJECT_REASONS = (MALFORMED, UNKNOWN_TYPE, INVALID_FIELD)
#: Quality-gate verdicts.
PASSED = "passed"
FAILED = "failed"
GATE_RESULTS = (PASSED, FAILED)
#: How a workflow run or a tool call ended.
SUCCEEDED = "succeeded"
RUN_RESULTS = (SUCCEEDED, FAILED)
#: Largest quality score accepted (scores are 0..1 by convention, other
#: scales are allowed: the histogram's buckets are configurable).
MAX_SCORE = 1e9
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


class EventError(ValueError):
    """An event failed validation. ``field`` and ``value`` say where and what."""

    def __init__(self, field: str, value: Any, reason: str, code: str = INVALID_FIELD):
        self.field = field
        self.value = value
        self.reason = reason
        self.code = code
        super().__init__(f"{field}: {reason} (got {shown(value)})")

    def __reduce__(self) -> tuple[Any, ...]:  # pickled whole for ``http.mapping_pool``
        return type(self), (self.field, self.value, self.reason, self.code)


#: Characters of a refused value quoted in an error, at most.
SHOWN_CHARS = 80


def shown(value: Any) -> str:
    """``repr(value)`` cut to ``SHOWN_CHARS``: an error names a value without
    echoing 100,000 characters of it, and never fails on one (``repr``
    refuses integers past 4,300 digits and values nested too deep)."""
    if isinstance(value, str | bytes):
        value = value[: SHOWN_CHARS + 1]
    try:
        text = repr(value)
    except (ValueError, RecursionError):
        text = f"<{type(value).__name__} too large to show>"
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 3] + "..."


def _nfc(value: str) -> str:
    """NFC form; ASCII text is already NFC, so the common case imports nothing
    (``unicodedata`` costs the recording CLI's start-up otherwise)."""
    if value.isascii():
        return value
    import unicodedata

    return unicodedata.normalize("NFC", value)


def normalize_persona(value: str) -> str:
    """Canonical persona name: NFC, trimmed, lower case, spaces and underscores as hyphens.

    "Backend Engineer", "backend_engineer" and "backend-engineer" are one
    persona; without this, dashboards show them as three.
    """
    out: list[str] = []
    in_run = False
    for ch in _nfc(value).strip():
        if ch.isspace() or ch == "_":  # a run of spaces and underscores: one hyphen
            if not in_run:
                out.append("-")
            in_run = True
        else:
            out.append(ch)
            in_run = False
    return "".join(out).lower()


#: Label values validated before -> their label: every ingested event, and its
#: replay from the journal, names the same few personas and models again.
_VALID_LABELS: dict[tuple[str, bool], str] = {}
MAX_CACHED_LABEL_VALUES = 50_000


def label_value(field: str, value: Any, *, persona: bool = False) -> str:
    """Validate a value that will become a metric label (see ``_label_value``);
    a value that passed before is answered from a bounded cache."""
    if type(value) is str:
        known = _VALID_LABELS.get((value, persona))
        if known is not None:
            return known
    text = _label_value(field, value, persona)
    if len(_VALID_LABELS) >= MAX_CACHED_LABEL_VALUES:
        _VALID_LABELS.clear()
    _VALID_LABELS[(value, persona)] = text
    return text


def _label_value(field: str, value: Any, persona: bool) -> str:
    """Validate a value that will become a metric label.

    One rule for every name (persona, chat mode, model, workflow, stage): NFC
    normalised, so names that render alike are one; only printable characters
    (spaces included), so invisible, bidi-control and line-separator
    characters are refused wherever they come from, before any rewriting.
    """
    if not isinstance(value, str):
        raise EventError(field, value, "must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise EventError(field, value, "must be valid UTF-8") from None
    if not value.isprintable():
        bad = next(ch for ch in value if not ch.isprintable())
        raise EventError(
            field,
            value,
            f"must not contain control characters or invisible, bidi or line-separator "
            f"characters (U+{ord(bad):04X})",
        )
    given = _nfc(value).strip()
    if given.startswith("__"):  # checked as given: normalising would hide it
        raise EventError(field, value, "must not start with '__' (reserved)")
    text = normalize_persona(given) if persona else given
    if not text:
        raise EventError(field, value, "must not be empty")
    if persona and text in RESERVED_PERSONAS:
        raise EventError(field, value, f"is reserved ({text!r} marks a session's first switch)")
    if len(text) > MAX_LABEL_LENGTH:
        raise EventError(
            field, value[:40] + "...", f"must be at most {MAX_LABEL_LENGTH} characters"
        )
    return text


def _ascii_decimal(text: str, fraction: bool) -> bool:
    """``-?[0-9]+`` (with ``fraction``: ``-?[0-9]+(\\.[0-9]+)?``), ASCII only: no
    spaces, signs other than a leading minus, underscores, exponents, hex, or
    other scripts' digits, all of which Python's ``int`` and ``float`` accept."""
    if not text.isascii() or len(text) > 32:
        return False
    digits = text[1:] if text.startswith("-") else text
    if fraction and "." in digits:
        whole, _, part = digits.partition(".")
        return whole.isdigit() and part.isdigit()
    return digits.isdigit()


def number_from_text(field: str, text: str, *, whole: bool) -> int | float:
    """A number typed on a command line: plain ASCII decimal digits (with a
    fraction unless ``whole``), nothing Python's ``int``/``float`` would also
    take (spaces, ``+``, ``_``, exponents, ``nan``, other scripts' digits)."""
    if not _ascii_decimal(text, fraction=not whole):
        kind = "a whole number" if whole else "a decimal number"
        raise EventError(field, text, f"must be {kind} (plain ASCII digits)")
    return int(text) if whole else float(text)


def count_value(field: str, value: Any, *, maximum: int = MAX_TOKENS) -> int:
    """Validate a non-negative whole count such as a token count: an integer
    (JSON over HTTP, Python in-process; a command line converts its text with
    ``number_from_text`` first). ``5.0`` and ``"5"`` are not integers."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise EventError(field, value, "must be a whole number")
    if value < 0:
        raise EventError(field, value, "must not be negative")
    if value > maximum:
        raise EventError(field, value, f"must be at most {maximum}")
    return value


def _bounded(field: str, value: Any, kind: str, maximum: float) -> float:
    """A finite number from 0 to ``maximum``: a JSON or Python number (a command
    line converts its text with ``number_from_text`` first); refused as "must
    be ``kind``" (a number of seconds, of US dollars) otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise EventError(field, value, f"must be {kind}")
    number = float(value)
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


def timestamp_value(field: str, value: Any, received: float | None = None) -> float:
    """Validate a Unix timestamp; ``None`` means now.

    ``received``: the receiver's clock when the event came in (from a producer,
    not a journal replay). The timestamp must then lie at most
    ``MAX_FUTURE_SECONDS`` ahead of it and ``MAX_PAST_SECONDS`` behind, so one
    event stamped far off cannot move a budget period or a duration.
    """
    if value is None:
        return time.time() if received is None else received
    number = seconds_value(field, value, maximum=1e11)
    if received is not None:
        if number > received + MAX_FUTURE_SECONDS:
            raise EventError(
                field,
                value,
                f"is {number - received:.0f} s ahead of this clock; at most "
                f"{MAX_FUTURE_SECONDS:.0f} s is accepted",
            )
        if number < received - MAX_PAST_SECONDS:
            raise EventError(
                field,
                value,
                f"is older than {MAX_PAST_SECONDS / 86400:.0f} days (the journal's retention)",
            )
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


def token_counts(raw: dict[str, Any]) -> tuple[int, int, int, int, int]:
    """(input, output, cache read, cache write, reasoning) tokens of a raw
    event, each a whole count, the parts within their wholes (cache reads
    and writes within the input, reasoning within the output)."""
    input_tokens = count_value("input_tokens", raw.get("input_tokens", 0))
    output_tokens = count_value("output_tokens", raw.get("output_tokens", 0))
    cache_read = count_value("cache_read_tokens", raw.get("cache_read_tokens", 0))
    cache_write = count_value("cache_write_tokens", raw.get("cache_write_tokens", 0))
    part_value("cache_read_tokens", cache_read, "input_tokens", input_tokens)
    part_value("cache_write_tokens", cache_write, "input_tokens", input_tokens - cache_read)
    reasoning = count_value("reasoning_tokens", raw.get("reasoning_tokens", 0))
    part_value("reasoning_tokens", reasoning, "output_tokens", output_tokens)
    return input_tokens, output_tokens, cache_read, cache_write, reasoning


def optional_label(field: str, value: Any, *, persona: bool = False) -> str | None:
    """``label_value``, or ``None`` for an absent value."""
    return None if value is None else label_value(field, value, persona=persona)


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
        return str(value)
    raise EventError(field, value, "must be 'passed' or 'failed'")


def result_value(field: str, value: Any) -> str:
    """Validate how a run or a call ended: succeeded or failed (``True`` and
    ``False`` are taken for them)."""
    if value is True:
        return SUCCEEDED
    if value is False:
        return FAILED
    if value in RUN_RESULTS:
        return str(value)
    raise EventError(field, value, "must be 'succeeded' or 'failed'")


def score_value(field: str, value: Any) -> float:
    """Validate a quality score: a finite number from 0 to ``MAX_SCORE``."""
    return _bounded(field, value, "a number", MAX_SCORE)


__all__ = [
    "FAILED",
    "GATE_RESULTS",
    "INVALID_FIELD",
    "MALFORMED",
    "MAX_FUTURE_SECONDS",
    "MAX_LABEL_LENGTH",
    "MAX_PAST_SECONDS",
    "MAX_SCORE",
    "MAX_SECONDS",
    "MAX_TOKENS",
    "MAX_USD",
    "NO_PERSONA",
    "OVERFLOW_VALUE",
    "PASSED",
    "REJECT_REASONS",
    "RESERVED_PERSONAS",
    "RUN_RESULTS",
    "SHOWN_CHARS",
    "SUCCEEDED",
    "TOKEN_TYPES",
    "UNKNOWN_TYPE",
    "EventError",
    "count_value",
    "flag_value",
    "gate_value",
    "label_value",
    "money_value",
    "normalize_persona",
    "number_from_text",
    "optional_label",
    "part_value",
    "result_value",
    "score_value",
    "seconds_value",
    "shown",
    "timestamp_value",
    "token_counts",
    "trace_id_value",
]
