"""What raw label values became, for inputs that repeat them.

An event's label values are validated (``fields``: trimmed, persona names
normalised, length and characters checked) as it is made. An app's calls
and its spans name the same few values again and again, so an input keeps
the validated form of the raw values it saw, keyed by the event class and
those values, and builds an event whose values it has seen straight from
that form, checking only its numbers (``plain_*``, each the fast answer of
one validator in ``fields``): the in-process recording methods
(``instrument``) and the OTLP span mapping (``genai``). Bounded: past ``MAX_CACHED_LABELS``
combinations, new ones are validated each time. A value that cannot be a
key (a list where a name is due) is never seen, so the full validation
names the field and the value, as it does for every other bad value.
"""

from __future__ import annotations

from typing import Any

from .fields import MAX_FUTURE_SECONDS, MAX_PAST_SECONDS, MAX_SECONDS, MAX_TOKENS, MAX_USD

#: Raw label combinations whose validated form is kept, per table (a
#: collector's, the span mapping's in each process).
MAX_CACHED_LABELS = 10_000


def plain_seconds(value: Any) -> bool:
    """Whether ``model.fields.seconds_value`` takes ``value`` as it is: a
    float from 0 to ``MAX_SECONDS`` (not NaN, not a whole number to convert).
    A call built from label values seen before checks its duration so."""
    return type(value) is float and 0.0 <= value <= MAX_SECONDS


def plain_time(value: Any, received: float) -> bool:
    """Whether ``fields.timestamp_value`` takes ``value``, stamped by a
    producer and received at ``received``, as it is: a float within the
    window it accepts around the receiver's clock."""
    return (
        type(value) is float
        and received - MAX_PAST_SECONDS <= value <= received + MAX_FUTURE_SECONDS
        and value <= 1e11
    )


def plain_dollars(value: Any) -> bool:
    """Whether ``model.fields.money_value`` takes ``value`` as it is: absent,
    or a float from 0 to ``MAX_USD``."""
    return value is None or (type(value) is float and 0.0 <= value <= MAX_USD)


def plain_counts(
    input_tokens: Any, output_tokens: Any, cache_read: Any, cache_write: Any, reasoning: Any
) -> bool:
    """Whether ``model.fields.token_counts`` takes the counts as they are:
    whole numbers up to ``MAX_TOKENS``, the cache reads and writes within the
    input, the reasoning within the output."""
    return (
        type(input_tokens) is int
        and type(output_tokens) is int
        and type(cache_read) is int
        and type(cache_write) is int
        and type(reasoning) is int
        and cache_read >= 0
        and cache_write >= 0
        and cache_read + cache_write <= input_tokens <= MAX_TOKENS
        and 0 <= reasoning <= output_tokens <= MAX_TOKENS
    )


class LabelForms(dict[tuple[Any, ...], tuple[Any, ...]]):
    """(event class, raw label values...) -> the values validated."""

    __slots__ = ()

    def seen(self, key: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The validated form of ``key``'s values, if they were seen."""
        try:
            return self.get(key)
        except TypeError:  # an unhashable value: the full validation names it
            return None

    def remember(self, key: tuple[Any, ...], form: tuple[Any, ...]) -> None:
        """Keep ``form``, what ``key``'s values became, while there is room."""
        if len(self) < MAX_CACHED_LABELS:
            self[key] = form


__all__ = [
    "MAX_CACHED_LABELS",
    "LabelForms",
    "plain_counts",
    "plain_dollars",
    "plain_seconds",
    "plain_time",
]
