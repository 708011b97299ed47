"""Events on the wire and in the journal: their JSON, and the keys that make a
retried delivery count once.

Stdlib only (and not ``json``, which imports ``re``): the recording CLI
writes its event with ``event_to_json``.
"""

from __future__ import annotations

import sys

from .events import Event, event_to_dict, parse_event
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


def _json_value(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # finite: validation refuses NaN and infinities
    text = value.replace("\\", "\\\\").replace('"', '\\"')
    if not text.isprintable():  # names are printable; escape anything else as JSON must
        text = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)
    return f'"{text}"'


def event_to_json(event: Event) -> str:
    """``event_to_dict`` as JSON text, for the journal.

    Written here rather than with the ``json`` module, which imports ``re``
    and costs the recording CLI a third of its start-up: an event's fields are
    validated names and finite numbers, so the encoding is short. Journal
    replay reads it back with ``json.loads`` (a test checks the round trip).
    """
    body = event_to_dict(event)
    encode = _ENCODE[0]
    if encode is None and "json" in sys.modules:  # a server has it loaded: C speed, same text
        encoder = sys.modules["json"].JSONEncoder(ensure_ascii=False, separators=(",", ":"))
        encode = _ENCODE[0] = encoder.encode
    if encode is not None:
        return encode(body)
    return "{" + ",".join(f'"{name}":{_json_value(v)}' for name, v in body.items()) + "}"


#: ``json``'s encoder, made once the process has ``json`` loaded anyway.
_ENCODE: list = [None]


__all__ = [
    "ENVELOPE_FIELDS",
    "MAX_KEY_LENGTH",
    "event_to_json",
    "key_value",
    "parse_delivery",
]
