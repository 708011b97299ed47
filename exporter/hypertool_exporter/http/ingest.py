"""The body of ``POST /v1/events``: read by RFC 9112's framing rules, parsed
strictly, validated whole before anything is recorded.

Framing: a body needs exactly one ``Content-Length`` of plain digits; a
``Transfer-Encoding`` (chunked bodies are not accepted) is answered 411, and
both together 400, since a request framed two ways is how request smuggling
starts. The size limit holds whatever the headers say: the body is never read
past it. JSON: duplicate keys and the non-standard ``NaN``/``Infinity`` are
refused, naming them. A batch is a JSON array (or one object); each event may
carry an ``event_id``, and a ``tokens_used`` event the ``reservation_id`` of
the budget reservation it uses; the ``Idempotency-Key`` header names the
whole batch.
"""

from __future__ import annotations

import json
from email.message import Message
from io import BufferedIOBase
from typing import Any

from ..model import jsontext
from ..model.events import Event
from ..model.fields import MALFORMED, EventError
from ..model.wire import key_value, parse_delivery

#: Largest ingest request body accepted.
MAX_INGEST_BYTES = 8 * 1024 * 1024
#: Most events accepted in one ingest batch.
MAX_BATCH = 10_000


class BadRequest(Exception):
    """A request the ingest refuses before reading events; ``status`` is the answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


def read_body(headers: Message, rfile: BufferedIOBase) -> bytes:
    """The request body, framed by one plain ``Content-Length`` at most
    ``MAX_INGEST_BYTES`` long; ``BadRequest`` otherwise."""
    encodings = headers.get_all("Transfer-Encoding") or []
    lengths = headers.get_all("Content-Length") or []
    if encodings and lengths:
        raise BadRequest(400, "Transfer-Encoding and Content-Length together are refused")
    if encodings:
        raise BadRequest(411, "chunked or encoded bodies are not accepted: send Content-Length")
    if not lengths:
        raise BadRequest(411, "Content-Length is required")
    if len(lengths) > 1:
        raise BadRequest(400, "more than one Content-Length")
    text = lengths[0].strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise BadRequest(400, f"Content-Length must be plain digits (got {lengths[0]!r})")
    length = int(text)
    if length > MAX_INGEST_BYTES:
        raise BadRequest(413, f"body larger than {MAX_INGEST_BYTES} bytes")
    body = rfile.read(length)
    if len(body) != length:
        raise BadRequest(400, f"body ended after {len(body)} of {length} bytes")
    return body


def parse_batch(raw: bytes, received: float) -> tuple[list[Event], list[str | None], list[str]]:
    """Events, their ``event_id``s, and the reservations their usage releases,
    from a body; ``EventError`` naming ``[index].field`` for the first bad
    one (nothing is recorded then)."""
    payload = jsontext.loads_strict("body", raw)
    items = payload if isinstance(payload, list) else [payload]
    if len(items) > MAX_BATCH:
        raise EventError("body", len(items), f"at most {MAX_BATCH} events per batch")
    events, keys, releases = [], [], []
    for index, item in enumerate(items):
        try:
            event, key, reservation = parse_delivery(item, received)
        except EventError as exc:
            field = f"[{index}].{exc.field}" if isinstance(payload, list) else exc.field
            raise EventError(field, exc.value, exc.reason, code=exc.code) from None
        events.append(event)
        keys.append(key)
        if reservation is not None:
            releases.append(reservation)
    return events, keys, releases


def idempotency_key(headers: Message) -> str | None:
    """The ``Idempotency-Key`` header, validated (``EventError`` when malformed)."""
    values = headers.get_all("Idempotency-Key") or []
    if len(values) > 1:
        raise EventError("Idempotency-Key", values, "is given twice", code=MALFORMED)
    return key_value("Idempotency-Key", values[0].strip()) if values else None


def error_document(exc: EventError) -> dict[str, Any]:
    """The answer to a refused event: the error, its field and its value
    (as its ``repr`` when JSON cannot carry it)."""
    value = exc.value
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        value = repr(value)
    return {"error": str(exc), "field": exc.field, "value": value}


__all__ = [
    "MAX_BATCH",
    "MAX_INGEST_BYTES",
    "BadRequest",
    "error_document",
    "idempotency_key",
    "parse_batch",
    "read_body",
]
