"""What the label values of in-process calls became, for calls that repeat them.

A ``record_*`` call validates its label values (``model.fields``: trimmed,
persona names normalised, length and characters checked) into its event.
An app sends the same few values again and again, so each recording method
keeps the validated form of the raw values it saw, keyed by its event class
and those values, and builds a call whose values it has seen straight from
that form, checking only its numbers: a journalled call then costs little
more than the append it waits for. Bounded: past ``MAX_CACHED_LABELS``
combinations, new ones are validated each time. A value that cannot be a
key (a list where a name is due) is never seen, so the full validation
names the field and the value, as it does for every other bad value.
"""

from __future__ import annotations

from typing import Any

from ..model.fields import MAX_SECONDS, MAX_TOKENS, MAX_USD

#: Raw label combinations whose validated form is kept, per collector.
MAX_CACHED_LABELS = 10_000


def plain_seconds(value: Any) -> bool:
    """Whether ``model.fields.seconds_value`` takes ``value`` as it is: a
    float from 0 to ``MAX_SECONDS`` (not NaN, not a whole number to convert).
    A call built from label values seen before checks its duration so."""
    return type(value) is float and 0.0 <= value <= MAX_SECONDS


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


__all__ = ["MAX_CACHED_LABELS", "LabelForms", "plain_counts", "plain_dollars", "plain_seconds"]
