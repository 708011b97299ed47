"""JSON text from outside, read strictly: whatever is wrong with it becomes an
``EventError`` naming the field, never another exception.

Python's parser raises ``RecursionError`` for text nested deeper than its
recursion limit (a body of 2,000 brackets), which is neither a ``ValueError``
nor anything a caller of ``json.loads`` expects; an exporter answering it
with a 500 is retried forever. Every reader of outside JSON (``/v1/events``,
OTLP JSON, JSON held in span attributes) goes through ``loads``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .fields import MALFORMED, EventError

#: Digits of a JSON integer read as a number when a document holds one too
#: long for Python; a longer one stays text, to be refused by name where it is
#: used (no count or time needs more than 20).
MAX_DIGITS = 40


def _integer(text: str) -> int | str:
    """A JSON integer literal; past ``MAX_DIGITS`` the text itself, so that one
    absurd value is refused alone instead of failing the whole document."""
    return int(text) if len(text) <= MAX_DIGITS else text


def loads(
    field: str,
    raw: str | bytes,
    *,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
    parse_constant: Callable[[str], Any] | None = None,
) -> Any:
    """``json.loads(raw)``; ``EventError`` (code ``malformed``) naming ``field``
    when it is not JSON, not UTF-8, or nested too deep to read. An
    ``EventError`` the hooks raise passes through as it is.

    Python refuses to convert an integer of more than 4,300 digits, which
    fails the whole document; such a document alone is read again with
    ``_integer`` for its integers (a hook on every read would cost ingest a
    tenth of its speed)."""
    try:
        try:
            return json.loads(
                raw, object_pairs_hook=object_pairs_hook, parse_constant=parse_constant
            )
        except ValueError as exc:
            if type(exc) is not ValueError:  # not JSON, not UTF-8, or a hook's EventError
                raise
            # An integer too long to convert: read the document again, its digits as text.
            return json.loads(
                raw,
                object_pairs_hook=object_pairs_hook,
                parse_constant=parse_constant,
                parse_int=_integer,
            )
    except EventError:
        raise
    except RecursionError:
        reason = "is JSON nested too deep to read"
    except (ValueError, UnicodeDecodeError) as exc:
        reason = f"is not valid JSON: {exc}"
    head = raw[:40].decode("utf-8", "replace") if isinstance(raw, bytes) else raw[:40]
    raise EventError(field, head, reason, code=MALFORMED)


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise EventError(key, value, "is given twice in one object", code=MALFORMED)
        found[key] = value
    return found


def _no_constant(name: str) -> Any:
    raise EventError("body", name, "is not JSON (NaN and Infinity are refused)", code=MALFORMED)


def loads_strict(field: str, raw: str | bytes) -> Any:
    """``loads`` of a request body: a key given twice in one object, and the
    non-standard ``NaN``/``Infinity``, are refused by name (the first could
    carry two values for one field, read differently by each parser)."""
    return loads(field, raw, object_pairs_hook=_unique, parse_constant=_no_constant)


__all__ = ["MAX_DIGITS", "loads", "loads_strict"]
