"""A local OTLP/HTTP trace receiver for the tests: decodes what exporters send."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue


def _value(value: AnyValue):
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return tuple(_value(v) for v in value.array_value.values)
    return getattr(value, kind) if kind else None


class ReceivedSpan:
    def __init__(self, span, resource: dict):
        self.name = span.name
        self.trace_id = span.trace_id.hex()
        self.span_id = span.span_id.hex()
        self.parent_id = span.parent_span_id.hex() or None
        self.attributes = {a.key: _value(a.value) for a in span.attributes}
        self.status_code = span.status.code
        self.events = [e.name for e in span.events]
        self.resource = resource

    def __repr__(self) -> str:
        return f"<span {self.name} {self.attributes}>"


class OTLPReceiver:
    """Keeps every request's path, headers and spans."""

    def __init__(self):
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.spans: list[ReceivedSpan] = []
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                with lock:
                    receiver.requests.append(
                        (self.path, {k.lower(): v for k, v in self.headers.items()})
                    )
                    for resource_spans in request.resource_spans:
                        resource = {
                            a.key: _value(a.value) for a in resource_spans.resource.attributes
                        }
                        for scope in resource_spans.scope_spans:
                            receiver.spans.extend(ReceivedSpan(s, resource) for s in scope.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def by_name(self, name: str) -> list[ReceivedSpan]:
        return [s for s in self.spans if s.name == name]

    def stop(self) -> None:
        self.server.shutdown()
