"""Work over OTLP, from the real OpenTelemetry SDK: a trace of
``invoke_workflow > invoke_agent > (chat with usage and an evaluation event,
execute_tool)`` becomes a run, the agent's persona on its calls, the
workflow's cost, a tool call and a score; OpenLLMetry's span kinds too."""

import pytest
from harness.support import ExporterProcess, sample, wait_for
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode

TOKEN = "otlp-work-token-0123456789abcdef"
CONFIG = "pricing:\n  gpt-4: {input: 0.03, output: 0.06}\n"


@pytest.fixture
def exporter(tmp_path):
    config = tmp_path / "hypertool.yml"
    config.write_text(CONFIG)
    proc = ExporterProcess(
        tmp_path / "journal.sqlite", config, env={"HYPERTOOL_INGEST_TOKEN": TOKEN}
    )
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
