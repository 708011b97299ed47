"""OTLP/HTTP trace requests: bodies in, ``SpanRecord``s out, and the answers.

``POST /v1/traces`` (and Langfuse's ``/api/public/otel/v1/traces``) carries an
``ExportTraceServiceRequest`` as binary protobuf (``application/x-protobuf``)
or as the OTLP JSON encoding (``application/json``: lowerCamelCase fields,
trace and span ids as hex, 64-bit integers as numbers or strings), optionally
gzip-compressed. A body that cannot be decoded is refused whole (400); a span
with bad ids is rejected alone and reported in the response's
``partial_success``, as the OTLP specification asks. Answers use the request's
encoding.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from ..model import jsontext
from ..model.fields import MALFORMED, EventError
from ..model.genai import SpanRecord
from ..model.genai_work import EVALUATION_EVENT

PROTOBUF = "application/x-protobuf"
JSON = "application/json"


class SpanDecodeError(EventError):
    """One span that cannot become a ``SpanRecord`` (it alone is rejected)."""


def media_type(content_type: str | None) -> str | None:
    """``PROTOBUF`` or ``JSON`` for a Content-Type header, else ``None``."""
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind if kind in (PROTOBUF, JSON) else None


def decompress(body: bytes, encoding: str | None, limit: int) -> bytes:
    """The body with its ``Content-Encoding`` (gzip or none) undone, at most
    ``limit`` bytes; ``ValueError`` for an unknown encoding, ``OverflowError``
    when it inflates past the limit (a zip bomb is never inflated whole),
    ``EventError`` for gzip that is damaged or ends early. A stream of several
    gzip members is read whole, as RFC 1952 and ``gzip -d`` read it."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return body
    if encoding != "gzip":
        raise ValueError(f"Content-Encoding {encoding!r} is not supported (use gzip or none)")
    out = bytearray()
    rest = body
    while True:
        inflater = zlib.decompressobj(wbits=31)
        try:
            out += inflater.decompress(rest, limit + 1 - len(out))
        except zlib.error as exc:
            raise EventError(
                "body", "<gzip>", f"is not valid gzip: {exc}", code=MALFORMED
            ) from None
        if len(out) > limit:
            raise OverflowError(f"body inflates past {limit} bytes")
        if not inflater.eof:
            raise EventError("body", "<gzip>", "is gzip that ends early", code=MALFORMED)
        rest = inflater.unused_data
        if not rest:
            return bytes(out)


# -- protobuf ---------------------------------------------------------------


def _pb_value(value: Any) -> Any:
    text = value.string_value  # most attributes: a string that is not empty, read at once
    if text:
        return text
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return text
    if kind == "array_value":
        return tuple(_pb_value(v) for v in value.array_value.values)
    if kind == "kvlist_value":
        return None  # nested maps name nothing we read
    return getattr(value, kind) if kind else None


def pb_attributes(attributes: Any) -> dict[str, Any]:
    return {kv.key: _pb_value(kv.value) for kv in attributes}


def decode_protobuf(body: bytes) -> tuple[list[SpanRecord], list[SpanDecodeError]]:
    """Spans of a binary ``ExportTraceServiceRequest``, and the spans refused."""
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise EventError(
            "body", "<protobuf>", f"is not an OTLP trace export: {exc}", code=MALFORMED
        ) from None
    spans, refused = [], []
    for resource_spans in request.resource_spans:
        resource = pb_attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            scope = scope_spans.scope.name
            for span in scope_spans.spans:
                try:
                    spans.append(
                        SpanRecord(
                            hex_id("traceId", span.trace_id, 16),
                            hex_id("spanId", span.span_id, 8),
                            hex_id("parentSpanId", span.parent_span_id, 8) or None,
                            span.name,
                            span.start_time_unix_nano,
                            span.end_time_unix_nano,
                            pb_attributes(span.attributes),
                            resource,
                            span.status.code,
                            span.status.message,
                            tuple(
                                (event.name, pb_attributes(event.attributes))
                                for event in span.events
                                if event.name == EVALUATION_EVENT
                            ),
                            scope,
                        )
                    )
                except SpanDecodeError as exc:
                    refused.append(exc)
    return spans, refused


#: All-zero ids by size: invalid, as the OTLP specification says.
_ZEROS = {16: bytes(16), 8: bytes(8)}


def hex_id(field: str, raw: bytes, size: int) -> str:
    if field == "parentSpanId" and not raw:
        return ""
    if len(raw) != size or raw == _ZEROS[size]:
        raise SpanDecodeError(field, raw.hex(), f"must be {size} bytes, not all zero")
    return raw.hex()


# -- JSON -------------------------------------------------------------------


#: OTLP JSON value kinds and the Python types each may hold.
_JSON_KINDS = {"stringValue": (str,), "boolValue": (bool,), "doubleValue": (int, float)}


def _json_value(value: Any) -> Any:
    """An attribute's value; ``None`` (as if absent) for one of the wrong type,
    so a bad value is refused by name where it is used, never mistaken."""
    if not isinstance(value, dict):
        return None
    for kind, item in value.items():
        types = _JSON_KINDS.get(kind)
        if types is not None:
            return item if isinstance(item, types) else None
        if kind == "intValue":  # int64: a number or a decimal string; else refused where used
            return _int64(item)
        if kind == "arrayValue":
            items = item.get("values") if isinstance(item, dict) else None
            return tuple(_json_value(v) for v in items) if isinstance(items, list) else None
        if kind == "bytesValue":
            try:
                return base64.b64decode(item, validate=True) if isinstance(item, str) else None
            except ValueError:
                return None
    return None


def _int64(item: Any) -> Any:
    """An ``intValue``: JSON encodes int64 as a string of ASCII digits (or a
    number); anything else is kept as it came, to be refused where it is used."""
    if isinstance(item, str):
        digits = item[1:] if item[:1] == "-" else item
        if digits.isascii() and digits.isdigit() and len(digits) <= 19:
            return int(item)
    return item


def json_attributes(items: Any) -> dict[str, Any]:
    if not isinstance(items, list):
        return {}
    return {
        kv["key"]: _json_value(kv.get("value"))
        for kv in items
        if isinstance(kv, dict) and isinstance(kv.get("key"), str)
    }


def _json_id(span: dict[Any, Any], field: str, size: int) -> str:
    raw = span.get(field, "")
    if field == "parentSpanId" and not raw:
        return ""
    if (
        not isinstance(raw, str)
        or len(raw) != size * 2
        or not all(ch in "0123456789abcdefABCDEF" for ch in raw)
        or not raw.strip("0")
    ):
        raise SpanDecodeError(field, raw, f"must be {size * 2} hex digits, not all zero")
    return raw.lower()


def _json_nanos(span: dict[Any, Any], field: str) -> int:
    raw = span.get(field, 0)
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 20:
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 2**64:
        return raw
    raise SpanDecodeError(field, raw, "must be a whole number of nanoseconds")


def json_list(container: dict[Any, Any], field: str) -> list[Any]:
    items = container.get(field, [])
    if not isinstance(items, list):
        raise EventError(field, type(items).__name__, "must be a list", code=MALFORMED)
    return items


def _json_events(items: Any) -> tuple[tuple[str, dict[str, Any]], ...]:
    """The span's evaluation events (others are not read)."""
    if not isinstance(items, list):
        return ()
    return tuple(
        (EVALUATION_EVENT, json_attributes(item.get("attributes")))
        for item in items
        if isinstance(item, dict) and item.get("name") == EVALUATION_EVENT
    )


def decode_json(body: bytes) -> tuple[list[SpanRecord], list[SpanDecodeError]]:
    """Spans of an OTLP JSON ``ExportTraceServiceRequest``, and the spans refused."""
    payload = jsontext.loads("body", body)
    if not isinstance(payload, dict):
        raise EventError("body", type(payload).__name__, "must be a JSON object", code=MALFORMED)
    spans, refused = [], []
    for resource_spans in json_list(payload, "resourceSpans"):
        if not isinstance(resource_spans, dict):
            raise EventError("resourceSpans", resource_spans, "must hold objects", code=MALFORMED)
        described = resource_spans.get("resource")
        resource = json_attributes(
            described.get("attributes") if isinstance(described, dict) else None
        )
        for scope_spans in json_list(resource_spans, "scopeSpans"):
            if not isinstance(scope_spans, dict):
                raise EventError("scopeSpans", scope_spans, "must hold objects", code=MALFORMED)
            described_scope = scope_spans.get("scope")
            scope = described_scope.get("name") if isinstance(described_scope, dict) else None
            scope = scope if isinstance(scope, str) else ""
            for span in json_list(scope_spans, "spans"):
                try:
                    if not isinstance(span, dict):
                        raise SpanDecodeError("spans", span, "must hold objects")
                    status = span.get("status") or {}
                    code = status.get("code", 0) if isinstance(status, dict) else 0
                    spans.append(
                        SpanRecord(
                            _json_id(span, "traceId", 16),
                            _json_id(span, "spanId", 8),
                            _json_id(span, "parentSpanId", 8) or None,
                            str(span.get("name", "")),
                            _json_nanos(span, "startTimeUnixNano"),
                            _json_nanos(span, "endTimeUnixNano"),
                            json_attributes(span.get("attributes")),
                            resource,
                            code if isinstance(code, int) else 0,
                            str(status.get("message", "")) if isinstance(status, dict) else "",
                            _json_events(span.get("events")),
                            scope,
                        )
                    )
                except SpanDecodeError as exc:
                    refused.append(exc)
    return spans, refused


def decode(body: bytes, kind: str) -> tuple[list[SpanRecord], list[SpanDecodeError]]:
    """Spans of an export in ``kind`` (``PROTOBUF`` or ``JSON``); ``EventError``
    (code ``malformed``) when the body as a whole cannot be read."""
    return decode_protobuf(body) if kind == PROTOBUF else decode_json(body)


# -- answers ----------------------------------------------------------------


def export_response(kind: str, rejected: int, message: str) -> bytes:
    """An ``ExportTraceServiceResponse``: empty on full success, else with
    ``partial_success`` saying how many spans were rejected and why."""
    if kind == JSON:
        if not rejected:
            return b"{}"
        partial = {"rejectedSpans": str(rejected), "errorMessage": message}
        return json.dumps({"partialSuccess": partial}).encode()
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    response = ExportTraceServiceResponse()
    if rejected:
        response.partial_success.rejected_spans = rejected
        response.partial_success.error_message = message
    return bytes(response.SerializeToString())


def status_body(kind: str, code: int, message: str) -> bytes:
    """A ``google.rpc.Status`` for an error answer (OTLP/HTTP's error body)."""
    if kind == JSON:
        return json.dumps({"code": code, "message": message}).encode()
    from google.rpc.status_pb2 import Status

    return bytes(Status(code=code, message=message).SerializeToString())


__all__ = [
    "JSON",
    "PROTOBUF",
    "SpanDecodeError",
    "decode",
    "decode_json",
    "decode_protobuf",
    "decompress",
    "export_response",
    "hex_id",
    "json_attributes",
    "json_list",
    "media_type",
    "pb_attributes",
    "status_body",
]
