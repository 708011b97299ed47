"""Traces to a local OTLP receiver (Langfuse-style and plain OTLP), exemplars, OTel metrics."""

import asyncio
import base64
import json
import logging
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from harness.otlp_receiver import OTLPReceiver
from harness.support import http_get
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse

from hypertool_exporter.instrument import tracing
from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.instrument.llm import ObservableLLM, observe_llm
from hypertool_exporter.instrument.workflow import WorkflowTracer


@pytest.fixture
def collector(registry, example_config):
    return PersonaMetricsCollector(registry, config=example_config)


@pytest.fixture
def receiver():
    server = OTLPReceiver()
    yield server
    tracing.shutdown_tracing()
    server.stop()


@pytest.fixture
def memory():
    exporter = InMemorySpanExporter()
    tracing.init_tracing(exporter=exporter, set_global=False)
    yield exporter
    tracing.shutdown_tracing()


def openai_response(prompt_tokens=600, completion_tokens=250):
    usage = SimpleNamespace(prompt_tokens=prompt_tokens, completion_tokens=completion_tokens)
    return SimpleNamespace(model="gpt-4-0613", usage=usage, choices=["ok"])


class RateLimitError(Exception):
    pass


def run_release(collector):
    """A two-stage workflow with three LLM calls, one of which fails."""
    chat = ObservableLLM(lambda **kw: openai_response(), "gpt-4", collector=collector)

    @observe_llm(model="claude-sonnet-4", collector=collector)
    def claude(**kw):
        return {"usage": {"input_tokens": 100, "output_tokens": 20}}

    @observe_llm(model="gpt-4", collector=collector)
    def failing(**kw):
        raise RateLimitError("slow down")

    with WorkflowTracer("package-release", chatmode="release", collector=collector) as wf:
        with wf.stage("implement", "backend-engineer") as stage:
            chat(messages=[{"role": "user", "content": "secret prompt"}])
            stage.passed = True
        with pytest.raises(RateLimitError), wf.stage("test", "testing-specialist"):
            claude()
            failing()


def test_langfuse_export_basic_auth_span_tree_and_identity(receiver, collector):
    env = {
        "LANGFUSE_PUBLIC_KEY": "pk-lf-test",
        "LANGFUSE_SECRET_KEY": "sk-lf-test",
        "LANGFUSE_HOST": receiver.url,
    }
    state = tracing.init_tracing(env=env, set_global=False)
    assert state.destination == f"{receiver.url}/api/public/otel/v1/traces"
    run_release(collector)
    assert tracing.flush()

    path, headers = receiver.requests[0]
    assert path == "/api/public/otel/v1/traces"
    expected = base64.b64encode(b"pk-lf-test:sk-lf-test").decode()
    assert headers["authorization"] == f"Basic {expected}"

    (workflow,) = receiver.by_name("workflow package-release")
    implement, test = receiver.by_name("stage implement")[0], receiver.by_name("stage test")[0]
    chats = receiver.by_name("chat gpt-4") + receiver.by_name("chat claude-sonnet-4")
    assert workflow.parent_id is None
    assert implement.parent_id == test.parent_id == workflow.span_id
    assert {s.trace_id for s in receiver.spans} == {workflow.trace_id}
    ok, failed = sorted(receiver.by_name("chat gpt-4"), key=lambda s: "error.type" in s.attributes)
    assert ok.parent_id == implement.span_id and failed.parent_id == test.span_id

    # Every span carries persona (user) and chat mode (session), the root included.
    for span in receiver.spans:
        assert span.attributes["langfuse.session.id"] == span.attributes["session.id"] == "release"
        assert span.attributes["langfuse.user.id"] == span.attributes["user.id"]
    assert workflow.attributes["user.id"] == "backend-engineer"
    assert failed.attributes["user.id"] == "testing-specialist"

    for span in chats:
        assert span.attributes["gen_ai.operation.name"] == "chat"
        assert span.attributes["langfuse.observation.type"] == "generation"
    assert ok.attributes["gen_ai.request.model"] == "gpt-4"
    assert ok.attributes["gen_ai.response.model"] == "gpt-4-0613"
    assert (
        ok.attributes["gen_ai.usage.input_tokens"],
        ok.attributes["gen_ai.usage.output_tokens"],
    ) == (600, 250)
    assert failed.attributes["error.type"] == "RateLimitError"
    assert failed.status_code == 2  # STATUS_CODE_ERROR
    assert test.attributes["hypertool.quality_gate.result"] == "failed"
    assert implement.attributes["hypertool.quality_gate.result"] == "passed"
    # Prompt capture is off by default.
    assert all("gen_ai.prompt" not in s.attributes for s in receiver.spans)
    assert workflow.resource["service.name"] == "hypertool"


def test_plain_otlp_endpoint_and_opt_in_content_capture(receiver, collector):
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url,
        "HYPERTOOL_CAPTURE_CONTENT": "true",
        "OTEL_SERVICE_NAME": "release-bot",
    }
    tracing.init_tracing(env=env, set_global=False)
    run_release(collector)
    assert tracing.flush()
    assert receiver.requests[0][0] == "/v1/traces"
    ok = next(s for s in receiver.by_name("chat gpt-4") if "error.type" not in s.attributes)
    assert "secret prompt" in ok.attributes["gen_ai.prompt"]
    assert ok.resource["service.name"] == "release-bot"


def test_metrics_recorded_through_the_collector(memory, collector, registry):
    run_release(collector)
    get = registry.get_sample_value
    assert (
        get("hypertool_llm_requests_total", {"persona": "backend-engineer", "model": "gpt-4"}) == 1
    )
    assert (
        get(
            "hypertool_llm_request_errors_total",
            {"persona": "testing-specialist", "model": "gpt-4"},
        )
        == 1
    )
    assert (
        get(
            "hypertool_persona_tokens_used_total",
            {
                "persona": "backend-engineer",
                "chatmode": "release",
                "model": "gpt-4",
                "token_type": "output",
            },
        )
        == 250
    )
    assert get(
        "hypertool_persona_cost_usd_total",
        {"persona": "backend-engineer", "chatmode": "release", "model": "gpt-4"},
    ) == pytest.approx(0.033)
    assert (
        get(
            "hypertool_workflow_quality_gate_total",
            {
                "workflow": "package-release",
                "stage": "test",
                "result": "failed",
                "persona": "testing-specialist",
            },
        )
        == 1
    )
    assert (
        get(
            "hypertool_workflow_quality_gate_total",
            {
                "workflow": "package-release",
                "stage": "implement",
                "result": "passed",
                "persona": "backend-engineer",
            },
        )
        == 1
    )


def test_exemplars_carry_the_trace_id_in_openmetrics(memory, collector):
    run_release(collector)
    port = collector.serve(port=0)
    try:
        _, text = http_get(
            f"http://127.0.0.1:{port}/metrics",
            {"Accept": "application/openmetrics-text; version=1.0.0"},
        )
    finally:
        collector.close()
    assert tracing.flush()
    trace_ids = {format(s.context.trace_id, "032x") for s in memory.get_finished_spans()}
    assert len(trace_ids) == 1
    (trace_id,) = trace_ids
    exemplars = {}
    for family in om_parse(text):
        for s in family.samples:
            if s.exemplar is not None:
                exemplars.setdefault(family.name, []).append(s.exemplar.labels["trace_id"])
    assert set(exemplars) >= {
        "hypertool_llm_request_duration_seconds",
        "hypertool_workflow_stage_duration_seconds",
        "hypertool_llm_requests",
        "hypertool_persona_tokens_used",
    }
    assert {t for ids in exemplars.values() for t in ids} == {trace_id}


def test_streams_sync_async_and_anthropic_events(memory, collector, registry):
    def stream(**kw):
        yield {"choices": ["Hel"]}
        yield {"choices": ["lo"]}
        yield {"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3}}

    chunks = list(ObservableLLM(stream, "gpt-4", "p", "m", collector=collector)())
    assert len(chunks) == 3

    async def anthropic(**kw):
        async def events():
            yield SimpleNamespace(
                type="message_start",
                message=SimpleNamespace(usage=SimpleNamespace(input_tokens=11, output_tokens=1)),
            )
            yield SimpleNamespace(type="content_block_delta", delta="hi")
            yield SimpleNamespace(type="message_delta", usage=SimpleNamespace(output_tokens=5))

        return events()

    async def consume():
        wrapped = ObservableLLM(anthropic, "claude-sonnet-4", "p", "m", collector=collector)
        return [e async for e in await wrapped()]

    assert len(asyncio.run(consume())) == 3
    get = registry.get_sample_value
    labels = {"persona": "p", "chatmode": "m"}
    assert (
        get(
            "hypertool_persona_tokens_used_total",
            {**labels, "model": "gpt-4", "token_type": "input"},
        )
        == 7
    )
    assert (
        get(
            "hypertool_persona_tokens_used_total",
            {**labels, "model": "claude-sonnet-4", "token_type": "input"},
        )
        == 11
    )
    assert (
        get(
            "hypertool_persona_tokens_used_total",
            {**labels, "model": "claude-sonnet-4", "token_type": "output"},
        )
        == 5
    )
    assert tracing.flush()
    spans = {s.name: s for s in memory.get_finished_spans()}
    assert spans["chat claude-sonnet-4"].attributes["gen_ai.usage.output_tokens"] == 5


def test_unknown_usage_is_counted_not_estimated(memory, collector, registry):
    ObservableLLM(lambda: "just text", "gpt-4", "p", collector=collector)()
    assert (
        registry.get_sample_value(
            "hypertool_llm_usage_unknown_total", {"persona": "p", "model": "gpt-4"}
        )
        == 1
    )
    assert (
        registry.get_sample_value(
            "hypertool_persona_tokens_used_total",
            {"persona": "p", "chatmode": "default", "model": "gpt-4", "token_type": "input"},
        )
        is None
    )


def test_async_workflow_and_trace_stage_verdicts(memory, collector, registry):
    async def build(x):
        await asyncio.sleep(0)
        return x * 2

    async def main():
        async with WorkflowTracer("nightly", collector=collector) as wf:
            doubled = await wf.trace_stage(
                "build", "devops-engineer", build, 21, quality_gate=lambda r: r == 42
            )
            result = wf.trace_stage("lint", "qa", lambda: "warnings", passed=False)
            untouched = wf.trace_stage("notify", "qa", lambda: None)
        return doubled, result, untouched

    assert asyncio.run(main()) == (42, "warnings", None)
    get = registry.get_sample_value
    assert (
        get(
            "hypertool_workflow_quality_gate_total",
            {
                "workflow": "nightly",
                "stage": "build",
                "result": "passed",
                "persona": "devops-engineer",
            },
        )
        == 1
    )
    assert (
        get(
            "hypertool_workflow_quality_gate_total",
            {"workflow": "nightly", "stage": "lint", "result": "failed", "persona": "qa"},
        )
        == 1
    )
    assert (
        get(
            "hypertool_workflow_quality_gate_total",
            {"workflow": "nightly", "stage": "notify", "result": "passed", "persona": "qa"},
        )
        is None
    )
    assert (
        get(
            "hypertool_workflow_stage_duration_seconds_count",
            {"workflow": "nightly", "stage": "notify", "persona": "qa"},
        )
        == 1
    )
    assert tracing.flush()
    names = [s.name for s in memory.get_finished_spans()]
    assert names == ["stage build", "stage lint", "stage notify", "workflow nightly"]


def test_unconfigured_tracing_is_a_quiet_no_op(collector, registry, caplog):
    caplog.set_level(logging.WARNING, logger="hypertool_exporter.instrument.tracing")
    state = tracing.init_tracing(env={}, set_global=False)
    assert state.destination == "none" and state.provider is None
    assert len([r for r in caplog.records if "not configured" in r.message]) == 1
    run_release(collector)  # no exporter, no network: must still work
    assert tracing.flush()
    assert (
        registry.get_sample_value(
            "hypertool_llm_requests_total", {"persona": "backend-engineer", "model": "gpt-4"}
        )
        == 1
    )
    assert (
        registry.get_sample_value(
            "hypertool_workflow_quality_gate_total",
            {
                "workflow": "package-release",
                "stage": "test",
                "result": "failed",
                "persona": "testing-specialist",
            },
        )
        == 1
    )


def test_host_app_otel_counter_appears_on_metrics(collector):
    provider = collector.otel_meter_provider()
    counter = provider.get_meter("host-app").create_counter(
        "gen_ai.client.token.usage", unit="{token}", description="tokens used"
    )
    counter.add(42, {"gen_ai.token.type": "input", "gen_ai.request.model": "gpt-4"})
    port = collector.serve(port=0)
    try:
        _, text = http_get(f"http://127.0.0.1:{port}/metrics")
    finally:
        collector.close()
        provider.shutdown()
    lines = [line for line in text.splitlines() if line.startswith("gen_ai_client_token_usage")]
    assert lines and any(line.endswith(" 42.0") for line in lines), text[-2000:]
    assert 'gen_ai_token_type="input"' in lines[0]
    assert "hypertool_exporter_build_info" in text  # one scrape, both worlds


def test_captured_completion_is_the_text_not_the_response_repr(memory, collector):
    tracing.state.capture_content = True
    try:
        message = SimpleNamespace(content="Here is the endpoint")
        response = SimpleNamespace(
            choices=[SimpleNamespace(message=message)],
            usage=SimpleNamespace(prompt_tokens=5, completion_tokens=4),
        )
        ObservableLLM(lambda **kw: response, "gpt-4", "p", collector=collector)(
            messages=[{"role": "user", "content": "Write it"}]
        )

        def deltas(**kw):
            for text in ("Hel", "lo"):
                yield {"choices": [{"delta": {"content": text}}]}
            yield SimpleNamespace(type="content_block_delta", delta=SimpleNamespace(text="!"))

        list(ObservableLLM(deltas, "claude-sonnet-4", "p", collector=collector)())
    finally:
        tracing.state.capture_content = False
    assert tracing.flush()
    spans = {s.name: s.attributes for s in memory.get_finished_spans()}
    assert spans["chat gpt-4"]["gen_ai.completion"] == "Here is the endpoint"
    assert spans["chat gpt-4"]["gen_ai.prompt"] == '[{"role": "user", "content": "Write it"}]'
    assert spans["chat claude-sonnet-4"]["gen_ai.completion"] == "Hello!"


def test_call_keywords_stay_with_the_wrapper(memory, collector, registry):
    seen = []

    def llm(prompt, **kwargs):
        seen.append((prompt, kwargs))
        return {"model": "gpt-4o-2024-08-06", "usage": {"prompt_tokens": 3, "completion_tokens": 2}}

    wrapped = ObservableLLM(llm, collector=collector)  # no model: the response names it
    wrapped("hi", persona="qa", chatmode="triage", metadata={"ticket": 7}, temperature=0)
    assert seen == [("hi", {"temperature": 0})]
    assert (
        registry.get_sample_value(
            "hypertool_persona_tokens_used_total",
            {
                "persona": "qa",
                "chatmode": "triage",
                "model": "gpt-4o-2024-08-06",
                "token_type": "input",
            },
        )
        == 3
    )
    assert tracing.flush()
    [span] = memory.get_finished_spans()
    assert span.name == "chat"
    assert span.attributes["langfuse.observation.metadata.ticket"] == 7


def test_facade_refuses_bad_input_by_name_and_records_nothing(memory, collector, registry):
    from hypertool_exporter.instrument.langfuse_api import LangfuseIntegration
    from hypertool_exporter.instrument.usage import usage_counts
    from hypertool_exporter.model.fields import EventError

    langfuse = LangfuseIntegration(collector=collector)
    trace = langfuse.start_trace("t", persona="qa")
    with pytest.raises(EventError, match=r"input_tokens: must not be negative \(got -5\)"):
        langfuse.create_generation(trace, "g", "gpt-4", usage={"input": -5, "output": 1})
    with pytest.raises(EventError, match="usage: needs input/output"):
        langfuse.create_generation(trace, "g", "gpt-4", usage={"words": 12})
    with pytest.raises(ValueError, match=r"status: must be one of .* \(got 'fine'\)"):
        langfuse.end_trace(trace, status="fine")
    langfuse.end_trace(trace, status="error")
    assert (
        registry.get_sample_value(
            "hypertool_persona_tokens_used_total",
            {"persona": "qa", "chatmode": "default", "model": "gpt-4", "token_type": "input"},
        )
        is None
    )
    with pytest.raises(ValueError, match="secret_key: Langfuse needs both keys"):
        LangfuseIntegration(public_key="pk-lf-1")
    assert usage_counts({"prompt_tokens": 3, "completion_tokens": 4}) == (3, 4)
    assert usage_counts({"input_tokens": 3, "output_tokens": 4}) == (3, 4)
    assert usage_counts({"total": 9, "unit": "TOKENS"}) == (9, 0)
    assert usage_counts(None) == (None, None)


def test_budgets_built_in_code_are_checked_like_the_config_file():
    from hypertool_exporter.model.budgets import Budget

    with pytest.raises(ValueError, match=r"period: must be one of daily, .* \(got 'day'\)"):
        Budget(period="day", tokens=5000)
    with pytest.raises(ValueError, match=r"tokens: must be a non-negative number \(got -1\)"):
        Budget(period="daily", tokens=-1)
    with pytest.raises(ValueError, match=r"scope: must be one of instance, fleet"):
        Budget(period="daily", scope="team")


def test_llm_spans_carry_the_current_genai_conventions_and_langfuse_cost(
    memory, collector, monkeypatch
):
    """provider.name (gen_ai.system only behind the opt-in), the response's id
    and finish reasons, the conversation, and the cost where Langfuse reads it."""
    answer = {
        "id": "chatcmpl-42",
        "model": "gpt-4-0613",
        "choices": [{"finish_reason": "stop", "message": {"content": "ok"}}],
        "usage": {"prompt_tokens": 1000, "completion_tokens": 500},
    }
    chat = ObservableLLM(lambda **kw: answer, "gpt-4", system="openai", collector=collector)
    chat(messages=[], conversation_id="thread-7")
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http, gen_ai/dup")
    chat(messages=[])
    assert tracing.flush()
    first, second = memory.get_finished_spans()
    attributes = dict(first.attributes)
    assert attributes["gen_ai.provider.name"] == "openai"
    assert "gen_ai.system" not in attributes
    assert second.attributes["gen_ai.system"] == "openai"  # asked for: both names
    assert attributes["gen_ai.response.id"] == "chatcmpl-42"
    assert attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert attributes["gen_ai.conversation.id"] == "thread-7"
    # the example config prices gpt-4 at $0.03 / $0.06 per 1K tokens
    cost = json.loads(attributes["langfuse.observation.cost_details"])
    assert cost == {"total": pytest.approx(0.03 + 0.03)}


def test_a_streamed_anthropic_call_names_its_message_and_stop_reason(memory, collector):
    events = [
        {"type": "message_start", "message": {"id": "msg_01", "model": "claude-sonnet-4",
                                               "usage": {"input_tokens": 10, "output_tokens": 1}}},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
         "usage": {"output_tokens": 5}},
    ]  # fmt: skip
    chat = ObservableLLM(lambda **kw: iter(events), "claude-sonnet-4", collector=collector)
    for _ in chat(messages=[], stream=True):
        pass
    assert tracing.flush()
    [span] = memory.get_finished_spans()
    assert span.attributes["gen_ai.response.id"] == "msg_01"
    assert span.attributes["gen_ai.response.finish_reasons"] == ("end_turn",)


def test_the_facade_sends_a_generations_cost_to_langfuse(memory, collector):
    from hypertool_exporter import get_langfuse

    langfuse = get_langfuse()
    langfuse.collector = collector
    trace = langfuse.start_trace("release", persona="backend-engineer")
    given = langfuse.create_generation(
        trace, "plan", "gpt-4", usage={"input": 10, "output": 5}, cost_usd=0.5
    )
    priced = langfuse.create_generation(trace, "plan", "gpt-4", usage={"input": 1000, "output": 0})
    langfuse.end_trace(trace)
    assert tracing.flush()
    spans = {span.context.span_id: span for span in memory.get_finished_spans()}
    details = [
        json.loads(spans[g.span.get_span_context().span_id].attributes[COST])
        for g in (given, priced)
    ]
    assert details == [{"total": 0.5}, {"total": pytest.approx(0.03)}]


COST = "langfuse.observation.cost_details"


HOST_APP = """
import sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import CollectorRegistry
from hypertool_exporter.instrument.collector import PersonaMetricsCollector

collector = PersonaMetricsCollector(CollectorRegistry())
collector.switch_persona(None, "qa", "review")  # no provider anywhere: a no-op span
memory = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(memory))
if sys.argv[1] == "global":  # the host app's own, installed after the collector started
    trace.set_tracer_provider(provider)
collector.switch_persona(None, "backend-engineer", "implement")
for span in memory.get_finished_spans():
    print(span.name, span.attributes["hypertool.persona.to"], span.attributes["session.id"])
"""


@pytest.mark.parametrize("host", ["global", "none"])
def test_a_switch_makes_its_span_once_a_host_app_installs_a_provider(host):
    """Without a tracer provider a switch's span is a no-op, and its
    attributes are not built (``is_recording``); a provider the host app
    installs later, as OpenTelemetry's global one, gets the span with them."""
    done = subprocess.run(
        [sys.executable, "-c", HOST_APP, host],
        capture_output=True,
        text=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "LANGFUSE_"))},
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.split("\n")
    if host == "global":
        assert lines[:2] == ["persona_switch backend-engineer implement", ""]
    else:
        assert lines[:1] == [""]
