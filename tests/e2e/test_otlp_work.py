"""Work over OTLP, from the real OpenTelemetry SDK: a trace of
``invoke_workflow > invoke_agent > (chat with usage and an evaluation event,
execute_tool)`` becomes a run, the agent's persona on its calls, the
workflow's cost, a tool call and a score; OpenLLMetry's span kinds too."""

import json
import time

import pytest
from harness.support import exporter_with_config, sample, wait_for
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

TOKEN = "otlp-work-token-0123456789abcdef"
CONFIG = "pricing:\n  gpt-4: {input: 0.03, output: 0.06}\n"


@pytest.fixture
def exporter(tmp_path):
    proc = exporter_with_config(tmp_path, CONFIG, HYPERTOOL_INGEST_TOKEN=TOKEN)
    yield proc
    proc.stop()


def batch_tracer(exporter):
    """A tracer exporting in batches, as apps do: a short trace in one request."""
    provider = TracerProvider(resource=Resource.create({"service.name": "agents"}))
    otlp = OTLPSpanExporter(
        endpoint=f"http://127.0.0.1:{exporter.port}/v1/traces",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    provider.add_span_processor(BatchSpanProcessor(otlp, schedule_delay_millis=60_000))
    return provider, provider.get_tracer("agents")


def test_a_workflow_trace_becomes_a_run_with_its_agent_cost_tool_and_score(exporter):
    provider, tracer = batch_tracer(exporter)
    workflow = {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "triage"}
    agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "devops-engineer"}
    chat = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 500,
    }
    tool = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "read_logs"}
    with (
        tracer.start_as_current_span("invoke_workflow triage", attributes=workflow),
        tracer.start_as_current_span("invoke_agent devops-engineer", attributes=agent),
    ):
        with tracer.start_as_current_span("chat gpt-4", attributes=chat) as call:
            call.add_event(
                "gen_ai.evaluation.result",
                {
                    "gen_ai.evaluation.name": "relevance",
                    "gen_ai.evaluation.score.value": 0.875,
                    "gen_ai.evaluation.score.label": "relevant",
                },
            )
        with tracer.start_as_current_span("execute_tool read_logs", attributes=tool) as span:
            span.set_status(Status(StatusCode.ERROR))
            span.set_attribute("error.type", "PermissionError")
    # OpenLLMetry's kinds: a workflow of a task holding a call, the persona named on it.
    with (
        tracer.start_as_current_span(
            "nightly.workflow",
            attributes={"traceloop.span.kind": "workflow", "traceloop.entity.name": "nightly"},
        ),
        tracer.start_as_current_span(
            "summarize.task",
            attributes={"traceloop.span.kind": "task", "traceloop.entity.name": "summarize"},
        ),
        tracer.start_as_current_span(
            "openai.chat",
            attributes={
                "llm.request.type": "chat",
                "gen_ai.request.model": "gpt-4",
                "gen_ai.usage.prompt_tokens": 2000,
                "gen_ai.usage.completion_tokens": 0,
                "hypertool.persona": "qa",
            },
        ),
    ):
        pass
    assert provider.force_flush(30_000)
    provider.shutdown()

    def folded():
        values = exporter.scrape()
        cost = sample(
            values, "hypertool_workflow_cost_usd_total", workflow="nightly", stage="summarize"
        )
        return values if cost else None

    values = wait_for(folded, what="the spans to be folded")
    assert (
        sample(values, "hypertool_workflow_runs_total", workflow="triage", result="succeeded") == 1
    )
    assert (
        sample(values, "hypertool_workflow_runs_total", workflow="nightly", result="succeeded") == 1
    )
    # The chat named no persona: the agent above it did.
    tokens = "hypertool_persona_tokens_used_total"
    labels = {"persona": "devops-engineer", "chatmode": "default", "model": "gpt-4"}
    assert sample(values, tokens, **labels, token_type="input") == 1000
    assert sample(values, tokens, **{**labels, "persona": "unknown"}, token_type="input") is None
    cost = "hypertool_workflow_cost_usd_total"
    assert sample(values, cost, workflow="triage", stage="none") == pytest.approx(0.06)
    assert sample(values, cost, workflow="nightly", stage="summarize") == pytest.approx(0.06)
    assert (
        sample(values, tokens, persona="qa", chatmode="default", model="gpt-4", token_type="input")
        == 2000
    )
    calls = "hypertool_tool_calls_total"
    assert sample(values, calls, persona="devops-engineer", tool="read_logs", result="failed") == 1
    scores = "hypertool_quality_score"
    assert (
        sample(values, f"{scores}_sum", persona="devops-engineer", evaluation="relevance") == 0.875
    )
    assert sample(values, f"{scores}_count", persona="devops-engineer", evaluation="relevance") == 1
    evaluations = "hypertool_evaluations_total"
    assert (
        sample(
            values, evaluations, persona="devops-engineer", evaluation="relevance", label="relevant"
        )
        == 1
    )


def test_calls_sent_before_their_workflow_wait_for_it_and_are_charged_once(exporter):
    """Each span sent as it ends (children first): the call counts for its
    persona at once, and for its workflow and stage when they arrive."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": "agents"}))
    otlp = OTLPSpanExporter(
        endpoint=f"http://127.0.0.1:{exporter.port}/v1/traces",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    provider.add_span_processor(SimpleSpanProcessor(otlp))
    tracer = provider.get_tracer("agents")
    chat = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4",
        "gen_ai.usage.input_tokens": 1000,
        "gen_ai.usage.output_tokens": 0,
        "hypertool.persona": "backend-engineer",
    }
    tokens = "hypertool_persona_tokens_used_total"
    labels = {"persona": "backend-engineer", "chatmode": "default", "model": "gpt-4"}
    cost = "hypertool_workflow_cost_usd_total"
    workflow = {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "release"}
    task = {"traceloop.span.kind": "task", "traceloop.entity.name": "build"}
    with (
        tracer.start_as_current_span("invoke_workflow release", attributes=workflow),
        tracer.start_as_current_span("build.task", attributes=task),
    ):
        with tracer.start_as_current_span("chat gpt-4", attributes=chat):
            pass
        # The call is in, its stage and workflow are not: the persona has it.
        values = exporter.scrape_when(
            lambda v: sample(v, tokens, **labels, token_type="input") == 1000,
            what="the call to count for its persona",
        )
        assert sample(values, cost, workflow="release", stage="build") is None
    values = exporter.scrape_when(
        lambda v: sample(v, cost, workflow="release", stage="build"),
        what="the call to be charged to its workflow when it arrived",
    )
    assert sample(values, cost, workflow="release", stage="build") == pytest.approx(0.03)
    assert (
        sample(
            values,
            "hypertool_workflow_tokens_total",
            workflow="release",
            stage="build",
            token_type="input",
        )
        == 1000
    )
    assert sample(values, tokens, **labels, token_type="input") == 1000  # not twice
    provider.shutdown()


def _evaluation_logs(*records):
    """An ``ExportLogsServiceRequest`` (protobuf) of ``(trace, span, attributes, event_name)``."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
    from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs, ScopeLogs

    def value(v):
        if isinstance(v, float):
            return AnyValue(double_value=v)
        return AnyValue(string_value=str(v))

    logs = []
    for n, (trace, span, attributes, name) in enumerate(records):
        logs.append(
            LogRecord(
                time_unix_nano=time.time_ns() + n,
                trace_id=bytes.fromhex(trace) if trace else b"",
                span_id=bytes.fromhex(span) if span else b"",
                event_name=name,
                attributes=[KeyValue(key=k, value=value(v)) for k, v in attributes.items()],
            )
        )
    request = ExportLogsServiceRequest(
        resource_logs=[ResourceLogs(scope_logs=[ScopeLogs(log_records=logs)])]
    )
    return request.SerializeToString()


def test_evaluations_sent_as_otlp_logs_are_scored(exporter):
    from harness.support import post_body
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse

    provider, tracer = batch_tracer(exporter)
    agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "security-auditor"}
    with (
        tracer.start_as_current_span("invoke_agent security-auditor", attributes=agent),
        tracer.start_as_current_span("chat", attributes={"gen_ai.operation.name": "chat"}) as call,
    ):
        trace = format(call.get_span_context().trace_id, "032x")
        span = format(call.get_span_context().span_id, "016x")
    assert provider.force_flush(30_000)
    provider.shutdown()
    evaluation = "gen_ai.evaluation.result"
    faithfulness = {"gen_ai.evaluation.name": "faithfulness", "gen_ai.evaluation.score.value": 0.5}
    tone = {
        "event.name": evaluation,  # the older spelling of the event's name
        "hypertool.persona": "qa",
        "gen_ai.evaluation.name": "tone",
        "gen_ai.evaluation.score.label": "polite",
    }
    other = {"gen_ai.request.model": "gpt-4"}
    bad = {"gen_ai.evaluation.name": "x", "gen_ai.evaluation.score.value": "high"}
    body = _evaluation_logs(
        (trace, span, faithfulness, evaluation),  # the agent's call, naming no persona
        ("", "", tone, ""),  # naming its persona, in no span
        (trace, span, other, "gen_ai.client.inference.operation.details"),  # left alone
        (trace, span, bad, evaluation),  # its score is no number: refused alone
    )
    kind = "application/x-protobuf"
    for _ in range(2):  # a retried export scores once
        status, raw = post_body(exporter.port, "/v1/logs", body, TOKEN, kind)
        assert status == 200
        answer = ExportLogsServiceResponse.FromString(raw)
        assert answer.partial_success.rejected_log_records == 1
        assert "score" in answer.partial_success.error_message
    values = exporter.scrape_when(
        lambda v: sample(
            v, "hypertool_evaluations_total", persona="qa", evaluation="tone", label="polite"
        ),
        what="the evaluations to be folded",
    )
    scores = "hypertool_quality_score"
    assert (
        sample(values, f"{scores}_sum", persona="security-auditor", evaluation="faithfulness")
        == 0.5
    )
    assert (
        sample(values, f"{scores}_count", persona="security-auditor", evaluation="faithfulness")
        == 1
    )
    assert (
        sample(
            values, "hypertool_evaluations_total", persona="qa", evaluation="tone", label="polite"
        )
        == 1
    )
    # JSON too, and a body that is not a log export is refused by name.
    json_body = json.dumps(
        {"resourceLogs": [{"scopeLogs": [{"logRecords": [{
            "eventName": evaluation, "timeUnixNano": str(time.time_ns()),
            "attributes": [
                {"key": "hypertool.persona", "value": {"stringValue": "qa"}},
                {"key": "gen_ai.evaluation.name", "value": {"stringValue": "tone"}},
                {"key": "gen_ai.evaluation.score.value", "value": {"doubleValue": 1.0}},
            ],
        }]}]}]}
    ).encode()  # fmt: skip
    assert post_body(exporter.port, "/v1/logs", json_body, TOKEN)[0] == 200
    exporter.scrape_when(
        lambda v: sample(v, f"{scores}_count", persona="qa", evaluation="tone") == 1,
        what="the JSON evaluation to be folded",
    )
    status, raw = post_body(exporter.port, "/v1/logs", b"\xff\x00not protobuf", TOKEN, kind)
    assert status == 400
    assert post_body(exporter.port, "/v1/logs", body, "wrong-token", kind)[0] == 401
