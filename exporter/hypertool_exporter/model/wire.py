"""Events on the wire and in the journal: their journal encoding, and the keys
that make a retried delivery count once.

Stdlib only (and not ``json``, which imports ``re``): the recording CLI
writes its event with ``event_to_json``.
"""

from __future__ import annotations

import sys

from .events import EVENT_CLASSES, Event, _tuple_new, parse_event
from .fields import UNKNOWN_TYPE, EventError

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
    """An event as the journal stores it: its field values in the order its
    class declares them, as a JSON array, the trailing ones at their default
    left out (the row's ``type`` column names the class).

    Positional rather than an object: about half the bytes of
    ``event_to_dict``'s JSON, since names are not repeated in every row.
    The price is a rule, held by a test: a new field is added at the end of
    its class, never between, and old fields are never reordered.
    ``event_from_journal`` reads both this and the object form that older
    journals hold.

    Encoded by ``orjson`` (a tenth of ``json``'s time) in a process that
    has it loaded (``serve`` and the journal writer load it), else by the few
    lines here: importing ``orjson`` or ``json`` would cost the recording CLI
    a fifth to a third of its start-up, and an event's fields are validated
    names and finite numbers, so the encoding is short. Both give the same
    values (a test holds it).
    """
    defaults = _DEFAULTS.get(type(event)) or _defaults_of(type(event))
    end = len(event)
    while end and event[end - 1] == defaults[end - 1]:
        end -= 1
    values = event[:end]  # a plain tuple: a JSON array to either encoder
    orjson = sys.modules.get("orjson")
    if orjson is not None:
        return orjson.dumps(values).decode()
    return "[" + ",".join(_json_value(v) for v in values) + "]"


def event_from_journal(kind: str, body: str) -> Event:
    """The event of a journal row (its ``type`` column and body).

    A positional row (``event_to_json``) was validated when it was appended,
    and a replay never refuses what was once accepted (see the architecture):
    it is rebuilt without validating again; only its values' types and
    signs are checked, so that a row damaged by hand can neither reach the
    fold as the wrong kind of value nor turn a counter down. An older row, a
    JSON object, goes through ``parse_event``. ``EventError`` or
    ``ValueError`` for a row that is not an event.
    """
    import orjson

    raw = orjson.loads(body)
    if not isinstance(raw, list):
        return parse_event(raw)
    cls = EVENT_CLASSES.get(kind)
    if cls is None:
        raise EventError(
            "type", kind, f"must be one of {', '.join(EVENT_CLASSES)}", code=UNKNOWN_TYPE
        )
    defaults, kinds = _SHAPES.get(cls) or _shape_of(cls)
    if len(raw) > len(defaults):
        raise EventError("body", body[:80], f"has more values than {kind} has fields")
    values = raw + list(defaults[len(raw) :])
    for index, value in enumerate(values):
        kind = type(value)
        if kind not in kinds[index]:
            if kind is not int or float not in kinds[index]:
                raise EventError(cls._fields[index], value, "has the wrong type for a journal row")
            value = values[index] = float(value)  # a whole number written as one
        if (kind is int or kind is float) and value < 0:  # counts, times, money: never below 0
            raise EventError(cls._fields[index], value, "must not be negative")
    return _tuple_new(cls, values)


#: Marks a field without a default: no value equals it.
_REQUIRED = object()
#: Event class -> each field's default, or ``_REQUIRED``.
_DEFAULTS: dict[type, tuple] = {}
#: Event class -> (each field's default, each field's allowed value types).
_SHAPES: dict[type, tuple[tuple, tuple]] = {}
_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "None": type(None)}


def _defaults_of(cls: type) -> tuple:
    defaults = tuple(cls._field_defaults.get(name, _REQUIRED) for name in cls._fields)
    _DEFAULTS[cls] = defaults
    return defaults


def _shape_of(cls: type) -> tuple[tuple, tuple]:
    """Read from the annotations of the class's ``__new__`` (``str | None``...)."""
    hints = cls.__new__.__annotations__
    kinds = tuple(
        frozenset(_TYPES[part.strip()] for part in hints[name].split("|")) for name in cls._fields
    )
    shape = _SHAPES[cls] = (_DEFAULTS.get(cls) or _defaults_of(cls), kinds)
    return shape


__all__ = [
    "ENVELOPE_FIELDS",
    "MAX_KEY_LENGTH",
    "event_from_journal",
    "event_to_json",
    "key_value",
    "parse_delivery",
]
