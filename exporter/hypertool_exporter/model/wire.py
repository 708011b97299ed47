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
#: that makes a retried event count once, and the budget reservation whose
#: usage a ``tokens_used`` event is (released when it is journalled).
ENVELOPE_FIELDS = ("event_id", "reservation_id")
#: Longest ``event_id`` / idempotency key accepted.
MAX_KEY_LENGTH = 200
#: The key of an event that is one delivery with the event before it, kept or
#: dropped with it (``Journal.append``): a span's events. Empty, which no
#: delivery key is (``key_value``).
WITH_PREVIOUS = ""


def delivery_keys(key: str, events: int) -> list[str]:
    """The keys of a delivery of ``events`` events (``Journal.append``): its
    key on the first, the rest joined to it (none for no events)."""
    return [key, *[WITH_PREVIOUS] * (events - 1)] if events else []


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


def parse_delivery(raw: Any, received: float | None = None) -> tuple[Event, str | None, str | None]:
    """A raw event, its ``event_id`` and its ``reservation_id``, each ``None``
    when absent (see ``parse_event``)."""
    if not (isinstance(raw, dict) and ("event_id" in raw or "reservation_id" in raw)):
        return parse_event(raw, received), None, None
    raw = dict(raw)
    event_id = key_value("event_id", raw.pop("event_id", None))
    reservation_id = key_value("reservation_id", raw.pop("reservation_id", None))
    event = parse_event(raw, received)
    if reservation_id is not None and event.TYPE != "tokens_used":
        raise EventError("reservation_id", reservation_id, "goes on a tokens_used event")
    return event, event_id, reservation_id


__all__ = [
    "ENVELOPE_FIELDS",
    "MAX_KEY_LENGTH",
    "WITH_PREVIOUS",
    "delivery_keys",
    "key_value",
    "parse_delivery",
]
