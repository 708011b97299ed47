"""Events on the wire: a raw event with its delivery id, and the keys that
make a retried delivery count once (their journal rows: ``journal.rows``).

Stdlib only (and not ``json``, which imports ``re``): the recording CLI
loads it.
"""

from __future__ import annotations

from .events import Event, parse_event
from .fields import EventError

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows CLI start-up
    from typing import Any


#: Fields of a raw event that are about its delivery, not the event: an id
#: that makes a retried event count once.
ENVELOPE_FIELDS = ("event_id",)
#: Longest ``event_id`` / idempotency key accepted.
MAX_KEY_LENGTH = 200


def key_value(field: str, value: Any) -> str | None:
    """Validate an idempotency key or event id: printable ASCII, at most
    ``MAX_KEY_LENGTH`` characters; absent is ``None``."""
    if value is None:
        return None
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_KEY_LENGTH
        or not value.isascii()
        or not value.isprintable()
    ):
        raise EventError(field, value, f"must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    return value


def parse_delivery(raw: Any, received: float | None = None) -> tuple[Event, str | None]:
    """A raw event and its ``event_id``, if it has one (see ``parse_event``)."""
    if isinstance(raw, dict) and "event_id" in raw:
        raw = dict(raw)
        event_id = key_value("event_id", raw.pop("event_id"))
        return parse_event(raw, received), event_id
    return parse_event(raw, received), None


__all__ = [
    "ENVELOPE_FIELDS",
    "MAX_KEY_LENGTH",
    "key_value",
    "parse_delivery",
]
