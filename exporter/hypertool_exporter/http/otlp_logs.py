"""OTLP/HTTP log export (``POST /v1/logs``): the GenAI conventions' events
sent as log records, of which ``gen_ai.evaluation.result`` is read (a
quality score); every other record is accepted and left alone.

OpenTelemetry SDKs and instrumentations emit events as log records named by
``event_name`` (``event.name`` as an attribute before it); an app that sends
its evaluations this way, or sends every GenAI event, gets its scores
counted and its other events accepted rather than a 404 its exporter would
retry. Decoded here as ``otlp`` decodes traces (same rules for ids, values
and malformed bodies); mapped and journalled by ``spans.SpanIngest.logs``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..model import jsontext
from ..model.fields import MALFORMED, EventError
from ..model.genai_work import EVALUATION_EVENT
from .otlp import JSON, hex_id, json_attributes, json_list, pb_attributes


@dataclass(slots=True)
class EvaluationRecord:
    """An evaluation result sent as a log record: where it happened (trace
    and span ids, as lowercase hex; empty when not in a span) and what it says."""

    trace_id: str
    span_id: str
    time_ns: int
    attributes: dict[str, Any]
    resource: dict[str, Any]


def _is_evaluation(event_name: str, attributes: dict[str, Any]) -> bool:
    return (event_name or attributes.get("event.name")) == EVALUATION_EVENT


def decode_logs(body: bytes, kind: str) -> tuple[list[EvaluationRecord], int]:
    """The evaluation records of an export, and how many records it held in
    all (a record with a malformed id is left out); ``EventError``
    (``malformed``) when the body cannot be read."""
    return _decode_protobuf(body) if kind != JSON else _decode_json(body)


def _decode_protobuf(body: bytes) -> tuple[list[EvaluationRecord], int]:
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    request = ExportLogsServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as exc:
        raise EventError(
            "body", "<protobuf>", f"is not an OTLP log export: {exc}", code=MALFORMED
        ) from None
    found, total = [], 0
    for resource_logs in request.resource_logs:
        resource = pb_attributes(resource_logs.resource.attributes)
        for scope_logs in resource_logs.scope_logs:
            for record in scope_logs.log_records:
                total += 1
                attributes = pb_attributes(record.attributes)
                name = getattr(record, "event_name", "")
                if not _is_evaluation(name, attributes):
                    continue
                try:
                    trace = hex_id("traceId", record.trace_id, 16) if record.trace_id else ""
                    span = hex_id("spanId", record.span_id, 8) if record.span_id else ""
                except EventError:
                    continue
                time_ns = record.time_unix_nano or record.observed_time_unix_nano
                found.append(EvaluationRecord(trace, span, time_ns, attributes, resource))
    return found, total


def _decode_json(body: bytes) -> tuple[list[EvaluationRecord], int]:
    payload = jsontext.loads("body", body)
    if not isinstance(payload, dict):
        raise EventError("body", type(payload).__name__, "must be a JSON object", code=MALFORMED)
    found, total = [], 0
    for resource_logs in json_list(payload, "resourceLogs"):
        if not isinstance(resource_logs, dict):
            raise EventError("resourceLogs", resource_logs, "must hold objects", code=MALFORMED)
        described = resource_logs.get("resource")
        described = described if isinstance(described, dict) else {}
        resource = json_attributes(described.get("attributes"))
        for scope_logs in json_list(resource_logs, "scopeLogs"):
            if not isinstance(scope_logs, dict):
                raise EventError("scopeLogs", scope_logs, "must hold objects", code=MALFORMED)
            for record in json_list(scope_logs, "logRecords"):
                total += 1
                if not isinstance(record, dict):
                    continue
                attributes = json_attributes(record.get("attributes"))
                name = record.get("eventName")
                if not _is_evaluation(name if isinstance(name, str) else "", attributes):
                    continue
                trace, span = record.get("traceId"), record.get("spanId")
                time_ns = record.get("timeUnixNano") or record.get("observedTimeUnixNano") or 0
                found.append(
                    EvaluationRecord(
                        trace.lower() if isinstance(trace, str) and len(trace) == 32 else "",
                        span.lower() if isinstance(span, str) and len(span) == 16 else "",
                        int(time_ns) if str(time_ns).isdigit() else 0,
                        attributes,
                        resource,
                    )
                )
    return found, total


def logs_response(kind: str, rejected: int, message: str) -> bytes:
    """An ``ExportLogsServiceResponse`` (``partial_success`` when some were refused)."""
    if kind == JSON:
        if not rejected:
            return b"{}"
        partial = {"rejectedLogRecords": str(rejected), "errorMessage": message}
        return json.dumps({"partialSuccess": partial}).encode()
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

    response = ExportLogsServiceResponse()
    if rejected:
        response.partial_success.rejected_log_records = rejected
        response.partial_success.error_message = message
    return bytes(response.SerializeToString())


__all__ = ["EvaluationRecord", "decode_logs", "logs_response"]
