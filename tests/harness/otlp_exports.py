"""OTLP protobuf exports built for the tests: large ones, with the cases the
span mapping tells apart."""

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest


def _attributes(target, pairs):
    for key, value in pairs.items():
        attribute = target.add()
        attribute.key = key
        if isinstance(value, int):
            attribute.value.int_value = value
        else:
            attribute.value.string_value = value


def nested_calls(first: int, calls: int, end_ns: int) -> bytes:
    """An OTLP protobuf export with every kind of span the mapping tells
    apart: for each of ``calls`` calls a framework's span over its provider's
    (one counts; 100 input and 20 output tokens, personas ``persona-0`` to
    ``persona-4``), then a stage, a span whose usage is refused, and one
    whose ids the decoder refuses. Ids start from ``first``; spans end at
    ``end_ns``. ``2 * calls + 3`` spans."""
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    _attributes(resource_spans.resource.attributes, {"service.name": "pool-test"})
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "opentelemetry.instrumentation.openai"

    def add(trace, span_id, attributes, parent=0, end=end_ns):
        span = scope_spans.spans.add()
        span.trace_id = (first + trace + 1).to_bytes(16, "big")
        span.span_id = (first + span_id + 1).to_bytes(8, "big")
        if parent:
            span.parent_span_id = (first + parent + 1).to_bytes(8, "big")
        span.name = "chat gpt-4o"
        span.start_time_unix_nano, span.end_time_unix_nano = end - 500_000_000, end
        _attributes(span.attributes, attributes)
        return span

    chat = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 20,
    }
    for n in range(calls):
        add(n, 2 * n, {**chat, "user.id": f"persona-{n % 5}"}, parent=2 * n + 1)
        add(n, 2 * n + 1, {**chat, "user.id": "framework"}, end=end_ns + 1)
    add(calls, 2 * calls, {"hypertool.stage.name": "review", "hypertool.workflow.name": "ship"})
    add(calls, 2 * calls + 1, {**chat, "gen_ai.usage.input_tokens": -5})  # refused alone
    add(calls, 2 * calls + 2, chat).span_id = bytes(8)  # refused by the decoder
    return request.SerializeToString()
