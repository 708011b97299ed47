"""OTLP/HTTP trace ingest against a running exporter: spans in the current and
the older GenAI conventions (real OpenTelemetry SDK exporters, protobuf and
JSON), exact token, cost and budget values, exactly-once under retries and
SIGKILL, nested spans counted once, and bad input refused without loss."""

import base64
import gzip
import http.client
import json
import os
import signal
import socket
import threading

import pytest
from harness.support import ExporterProcess, post_body, sample, scrape, wait_for
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind

TOKEN = "otlp-ingest-token-0123456789abcdef"
PUBLIC, SECRET = "pk-lf-otlp-test-0123456789", "sk-lf-otlp-test-0123456789"
CONFIG = """\
budgets:
  backend-engineer: {tokens: 5000, period: daily}
pricing:
  gpt-4: {input: 0.03, output: 0.06}
"""


@pytest.fixture
def exporter(tmp_path):
    config = tmp_path / "hypertool.yml"
    config.write_text(CONFIG)
    env = {
        "HYPERTOOL_INGEST_TOKEN": TOKEN,
        "HYPERTOOL_LANGFUSE_PUBLIC_KEY": PUBLIC,
        "HYPERTOOL_LANGFUSE_SECRET_KEY": SECRET,
    }
    proc = ExporterProcess(tmp_path / "journal.sqlite", config, env=env)
    proc.env, proc.config = env, config
    yield proc
    proc.stop()


def tracer_for(exporter, path="/v1/traces", headers=None, resource=None):
    """A private SDK tracer provider exporting each span as it ends."""
    provider = TracerProvider(resource=Resource.create(resource or {"service.name": "app"}))
    otlp = OTLPSpanExporter(
        endpoint=f"http://127.0.0.1:{exporter.port}{path}",
        headers=headers or {"Authorization": f"Bearer {TOKEN}"},
    )
    provider.add_span_processor(SimpleSpanProcessor(otlp))
    return provider, provider.get_tracer("test")


def post(exporter, body: bytes, content_type="application/json", headers=None, path="/v1/traces"):
    return post_body(exporter.port, path, body, TOKEN, content_type, headers)


def announced_status(exporter, length: int) -> int:
    """The status answered to a request announcing a ``length``-byte body, of which
    nothing is sent (the exporter must refuse it unread)."""
    head = (
        f"POST /v1/traces HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", exporter.port), timeout=10) as sock:
        sock.sendall(head.encode())
        return int(sock.recv(4096).split(b" ", 2)[1])


def json_span(span_id: str, attributes: dict, trace_id="5b8efff798038103d269b633813fc60c",
              parent="", start=None, duration=0.8):  # fmt: skip
    import time

    start = int((start or time.time()) * 1e9)
    values = []
    for key, value in attributes.items():
        if isinstance(value, bool):
            values.append({"key": key, "value": {"boolValue": value}})
        elif isinstance(value, int):
            values.append({"key": key, "value": {"intValue": str(value)}})
        elif isinstance(value, float):
            values.append({"key": key, "value": {"doubleValue": value}})
        else:
            values.append({"key": key, "value": {"stringValue": value}})
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "parentSpanId": parent,
        "name": "chat",
        "kind": 3,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": str(start + int(duration * 1e9)),
        "attributes": values,
    }


def export(*spans, resource=None) -> bytes:
    attributes = [{"key": k, "value": {"stringValue": v}} for k, v in (resource or {}).items()]
    return json.dumps(
        {
            "resourceSpans": [
                {"resource": {"attributes": attributes}, "scopeSpans": [{"spans": list(spans)}]}
            ]
        }
    ).encode()


def tokens(values, persona, token_type, chatmode="default", model="gpt-4"):
    return sample(
        values,
        "hypertool_persona_tokens_used_total",
        persona=persona,
        chatmode=chatmode,
        model=model,
        token_type=token_type,
    )


CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.provider.name": "openai",
    "gen_ai.request.model": "gpt-4",
}


def test_current_conventions_give_exact_tokens_cost_budget_and_genai_metrics(exporter):
    provider, tracer = tracer_for(exporter)
    with tracer.start_as_current_span("chat gpt-4", kind=SpanKind.CLIENT) as span:
        span.set_attributes(
            {
                **CHAT,
                "gen_ai.usage.input_tokens": 600,
                "gen_ai.usage.output_tokens": 250,
                "gen_ai.usage.cache_read.input_tokens": 100,
                "user.id": "backend-engineer",
                "session.id": "implement",
                "gen_ai.prompt": "secret prompt text",
            }
        )
    provider.shutdown()
    values = exporter.scrape_when(
        lambda v: tokens(v, "backend-engineer", "input", "implement") is not None,
        what="the span's tokens on /metrics",
    )
    assert tokens(values, "backend-engineer", "input", "implement") == 500  # cache apart
    assert tokens(values, "backend-engineer", "cache_read", "implement") == 100
    assert tokens(values, "backend-engineer", "output", "implement") == 250
    cost = sample(
        values,
        "hypertool_persona_cost_usd_total",
        persona="backend-engineer",
        chatmode="implement",
        model="gpt-4",
    )
    assert cost == pytest.approx(0.6 * 0.03 + 0.25 * 0.06)  # cache at the input rate (config)
    remaining = "hypertool_persona_token_budget_remaining"
    assert sample(values, remaining, persona="backend-engineer") == 5000 - 850
    genai = {
        "gen_ai_operation_name": "chat",
        "gen_ai_provider_name": "openai",
        "gen_ai_request_model": "gpt-4",
        "persona": "backend-engineer",
    }
    usage = "gen_ai_client_token_usage"
    assert sample(values, f"{usage}_sum", **genai, gen_ai_token_type="input") == 600
    assert sample(values, f"{usage}_sum", **genai, gen_ai_token_type="output") == 250
    assert sample(values, f"{usage}_bucket", **genai, gen_ai_token_type="output", le="256.0") == 1
    assert sample(values, f"{usage}_bucket", **genai, gen_ai_token_type="output", le="64.0") == 0
    duration = "gen_ai_client_operation_duration_seconds_count"
    assert sample(values, duration, **genai, error_type="") == 1
    assert (
        sample(values, "hypertool_llm_requests_total", persona="backend-engineer", model="gpt-4")
        == 1
    )
    assert "secret prompt text" not in exporter.text()  # content never reaches a label


def test_older_conventions_and_persona_from_the_resource(exporter):
    resource = {"service.name": "legacy", "hypertool.persona": "testing-specialist"}
    provider, tracer = tracer_for(exporter, resource=resource)
    with tracer.start_as_current_span("anthropic.chat", kind=SpanKind.CLIENT) as span:
        span.set_attributes(
            {
                "gen_ai.system": "anthropic",
                "gen_ai.request.model": "claude-sonnet-4",
                "gen_ai.usage.prompt_tokens": 120,
                "gen_ai.usage.completion_tokens": 30,
                "llm.usage.total_tokens": 150,
                "langfuse.session.id": "review",
            }
        )
    with tracer.start_as_current_span("openlit") as span:  # llm.usage.* only
        span.set_attributes(
            {
                "gen_ai.request.model": "gpt-4",
                "llm.usage.prompt_tokens": 7,
                "llm.usage.completion_tokens": 3,
            }
        )
    provider.shutdown()
    values = exporter.scrape_when(
        lambda v: tokens(v, "testing-specialist", "input", "default") is not None,
        what="both spans' tokens",
    )
    model = "claude-sonnet-4"
    assert tokens(values, "testing-specialist", "input", "review", model) == 120
    assert tokens(values, "testing-specialist", "output", "review", model) == 30
    assert tokens(values, "testing-specialist", "input", "default") == 7
    assert tokens(values, "testing-specialist", "output", "default") == 3
    genai = {"gen_ai_operation_name": "chat", "gen_ai_request_model": model}
    assert (
        sample(
            values,
            "gen_ai_client_token_usage_count",
            **genai,
            gen_ai_provider_name="anthropic",
            gen_ai_token_type="input",
            persona="testing-specialist",
        )
        == 1
    )


def test_json_retries_count_once_and_langfuse_basic_auth_works(exporter):
    body = export(
        json_span("1111111111111111", {**CHAT, "gen_ai.usage.input_tokens": 40, "user.id": "qa"})
    )
    for _ in range(3):  # a retrying exporter: the same span three times
        status, answer = post(exporter, body)
        assert (status, answer) == (200, b"{}")
    basic = base64.b64encode(f"{PUBLIC}:{SECRET}".encode()).decode()
    second = export(
        json_span("2222222222222222", {**CHAT, "gen_ai.usage.input_tokens": 2, "user.id": "qa"})
    )
    zipped = gzip.compress(second)
    headers = {"Authorization": f"Basic {basic}", "Content-Encoding": "gzip"}
    for _ in range(2):
        status, _ = post(exporter, zipped, headers=headers, path="/api/public/otel/v1/traces")
        assert status == 200
    values = exporter.scrape_when(
        lambda v: tokens(v, "qa", "input") == 42,
        what="42 input tokens",
    )
    assert sample(values, "hypertool_llm_requests_total", persona="qa", model="gpt-4") == 2


def test_bad_input_gets_a_clear_answer_and_changes_nothing(exporter):
    good = json_span("3333333333333333", {**CHAT, "gen_ai.usage.input_tokens": 5, "user.id": "ok"})
    negative = json_span(
        "4444444444444444", {**CHAT, "gen_ai.usage.input_tokens": -5, "user.id": "x"}
    )
    fraction = json_span(
        "5555555555555555", {**CHAT, "gen_ai.usage.output_tokens": 1.5, "user.id": "x"}
    )
    status, answer = post(exporter, export(good, negative, fraction))
    assert status == 200
    partial = json.loads(answer)["partialSuccess"]
    assert partial["rejectedSpans"] == "2"
    assert partial["errorMessage"].startswith(
        "span 4444444444444444: gen_ai.usage.input_tokens: must not be negative (got -5)"
    )
    assert partial["errorMessage"].endswith("(and 1 more)")
    status, answer = post(exporter, b"\x0a\x05garbage", "application/x-protobuf")
    assert status == 400
    from google.rpc.status_pb2 import Status

    assert "not an OTLP trace export" in Status.FromString(answer).message
    status, answer = post(exporter, b"{not json")
    assert status == 400 and "not valid JSON" in json.loads(answer)["message"]
    assert post(exporter, b"{}", headers={"Authorization": "Bearer wrong"})[0] == 401
    wrong_basic = base64.b64encode(f"{PUBLIC}:nope".encode()).decode()
    assert post(exporter, b"{}", headers={"Authorization": f"Basic {wrong_basic}"})[0] == 401
    assert post(exporter, b"{}", "text/plain")[0] == 415
    assert announced_status(exporter, 8 * 1024 * 1024 + 1) == 413  # refused before reading
    bomb = gzip.compress(b"0" * (9 * 1024 * 1024))
    assert post(exporter, bomb, headers={"Content-Encoding": "gzip"})[0] == 413
    values = exporter.scrape_when(
        lambda v: tokens(v, "ok", "input") == 5,
        what="the good span of the mixed batch",
    )
    assert tokens(values, "x", "input") is None and tokens(values, "x", "output") is None
    rejected = "hypertool_exporter_events_rejected_total"
    assert sample(values, rejected, reason="invalid_field") == 2
    assert sample(values, rejected, reason="malformed") >= 5


def test_a_call_without_usage_is_counted_never_estimated(exporter):
    span = json_span("6666666666666666", {**CHAT, "user.id": "quiet"})
    failed = json_span("7777777777777777", {**CHAT, "user.id": "quiet", "error.type": "timeout"})
    assert post(exporter, export(span, failed))[0] == 200
    values = exporter.scrape_when(
        lambda v: sample(v, "hypertool_llm_requests_total", persona="quiet", model="gpt-4") == 2,
        what="two calls",
    )
    assert sample(values, "hypertool_llm_usage_unknown_total", persona="quiet", model="gpt-4") == 1
    assert sample(values, "hypertool_llm_request_errors_total", persona="quiet", model="gpt-4") == 1
    assert tokens(values, "quiet", "input") is None
    labels = {
        "gen_ai_operation_name": "chat",
        "gen_ai_provider_name": "openai",
        "gen_ai_request_model": "gpt-4",
        "persona": "quiet",
    }
    assert (
        sample(
            values, "gen_ai_client_operation_duration_seconds_count", **labels, error_type="timeout"
        )
        == 1
    )


@pytest.mark.parametrize("order", ["child first", "parent first"])
def test_a_framework_span_over_a_provider_span_counts_once(exporter, order):
    trace = "0af7651916cd43dd8448eb211c80319c"
    usage = {**CHAT, "gen_ai.usage.input_tokens": 100, "gen_ai.usage.output_tokens": 10}
    parent = json_span("aaaaaaaaaaaaaaaa", {**usage, "user.id": "nested"}, trace)
    plain = json_span("bbbbbbbbbbbbbbbb", {"http.route": "/x"}, trace, parent="aaaaaaaaaaaaaaaa")
    child = json_span(
        "cccccccccccccccc", {**usage, "user.id": "nested"}, trace, parent="bbbbbbbbbbbbbbbb"
    )
    sibling = json_span("dddddddddddddddd", {**usage, "user.id": "nested"}, "1" * 32)
    batches = [[child, plain], [parent], [sibling]]
    if order == "parent first":
        batches = [[parent], [plain, child], [sibling]]
    for batch in batches:  # separate requests, as separate exports would arrive
        assert post(exporter, export(*batch))[0] == 200
    values = exporter.scrape_when(
        lambda v: tokens(v, "nested", "input") == 200,
        what="two calls of 100 input tokens",
    )
    assert sample(values, "hypertool_llm_requests_total", persona="nested", model="gpt-4") == 2


def test_our_stage_spans_count_remotely(exporter):
    from hypertool_exporter.instrument import tracing
    from hypertool_exporter.instrument.collector import PersonaMetricsCollector
    from hypertool_exporter.instrument.workflow import WorkflowTracer

    endpoint = f"http://127.0.0.1:{exporter.port}/v1/traces"
    otlp = OTLPSpanExporter(endpoint=endpoint, headers={"Authorization": f"Bearer {TOKEN}"})
    tracing.init_tracing(exporter=otlp, set_global=False)
    try:
        local = PersonaMetricsCollector()  # the app's own metrics, not the exporter's
        with (
            WorkflowTracer("release", collector=local) as wf,
            wf.stage("implement", "backend-engineer") as stage,
        ):
            stage.passed = False
        assert tracing.flush(5000)
    finally:
        tracing.shutdown_tracing()
    values = exporter.scrape_when(
        lambda v: sample(
            v,
            "hypertool_workflow_quality_gate_total",
            workflow="release",
            stage="implement",
            result="failed",
            persona="backend-engineer",
        ),
        what="the remote stage's gate",
    )
    count = "hypertool_workflow_stage_duration_seconds_count"
    assert (
        sample(values, count, workflow="release", stage="implement", persona="backend-engineer")
        == 1
    )


def test_sigkill_during_ingest_loses_no_acknowledged_span(exporter, tmp_path):
    acknowledged: list[int] = []
    bodies = {}
    for batch in range(60):
        attributes = {**CHAT, "gen_ai.usage.input_tokens": 10, "user.id": f"k{batch}"}
        trace = f"{batch + 1:032x}"
        spans = [json_span(f"{batch:08x}{n + 1:08x}", attributes, trace) for n in range(50)]
        bodies[batch] = export(*spans)
    stop = threading.Event()

    def send():
        for batch, body in bodies.items():
            if stop.is_set():
                return
            try:
                status, _ = post(exporter, body)
            except (OSError, http.client.HTTPException):  # killed mid-answer: IncompleteRead
                return
            if status == 200:
                acknowledged.append(batch)

    sender = threading.Thread(target=send)
    sender.start()
    wait_for(lambda: len(acknowledged) >= 10, what="ten acknowledged batches")
    os.kill(exporter.proc.pid, signal.SIGKILL)
    stop.set()
    sender.join(30)
    exporter.proc.wait(10)
    survivor = ExporterProcess(exporter.journal, exporter.config, env=exporter.env)
    try:
        for body in bodies.values():  # the clients retry everything, answered or not
            assert post(survivor, body)[0] == 200
        values = survivor.scrape_when(
            lambda v: tokens(v, "k59", "input") == 500,
            what="every batch",
        )
        counts = {batch: tokens(values, f"k{batch}", "input") for batch in bodies}
        assert counts == dict.fromkeys(bodies, 500)  # exactly once, acknowledged or not
        assert len(acknowledged) >= 10
    finally:
        survivor.stop()


def test_protobuf_answer_is_an_export_response(exporter):
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    status, answer = post(
        exporter, ExportTraceServiceRequest().SerializeToString(), "application/x-protobuf"
    )
    assert status == 200
    assert ExportTraceServiceResponse.FromString(answer).partial_success.rejected_spans == 0


def test_metric_exports_beside_the_spans_are_accepted_and_left_alone(exporter):
    """Instrumentations send their metrics to the same endpoint as their spans
    (OpenLIT, OpenLLMetry, pydantic-ai): a success, never a 404 to retry; the
    numbers are the spans' again, so nothing is counted. The credentials and
    the content type are checked as for spans."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    request = ExportMetricsServiceRequest()
    request.resource_metrics.add().scope_metrics.add().metrics.add().name = (
        "gen_ai.client.token.usage"
    )
    body = request.SerializeToString()
    before = scrape(exporter.port)
    assert post(exporter, body, "application/x-protobuf", path="/v1/metrics") == (200, b"")
    assert post(exporter, b'{"resourceMetrics": []}', path="/v1/metrics") == (200, b"{}")
    wrong = {"Authorization": "Bearer wrong"}
    assert post(exporter, body, "application/x-protobuf", wrong, "/v1/metrics")[0] == 401
    assert post(exporter, body, "text/plain", path="/v1/metrics")[0] == 415
    after = scrape(exporter.port)
    applied = "hypertool_exporter_events_applied_total"
    assert {k: v for k, v in after.items() if k[0] == applied} == {
        k: v for k, v in before.items() if k[0] == applied
    }


def test_a_percent_encoded_bearer_is_accepted_as_exporters_may_send_it(exporter):
    """``OTEL_EXPORTER_OTLP_HEADERS=Authorization=Bearer%20<token>`` is decoded by
    the OpenTelemetry SDKs; some exporters send it as written."""
    body = export(json_span("00f067aa0ba902b7", {"gen_ai.request.model": "gpt-4"}))
    encoded = {"Authorization": f"Bearer%20{TOKEN}"}
    assert post(exporter, body, headers=encoded)[0] == 200
    assert post(exporter, body, headers={"Authorization": f"Bearer%20{TOKEN}x"})[0] == 401
