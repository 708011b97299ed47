"""The Hypertool documents' own examples, run as written (only the import path
changed: ``hypertool.instrumentation`` -> ``hypertool_exporter``), with a fake
OpenAI-shaped client and a local OTLP receiver standing in for Langfuse.

Each test holds one example of ``hypertool-langfuse-guide.md`` or
``hypertool-phase5-apm-plan.md`` (in ``../shared/seeds/``) and asserts what the
document promises: metric values, the span tree, persona as user and chat
mode as session, the budget print-out.
"""

import asyncio
import base64
import logging
import os
import re
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
from harness.otlp_receiver import OTLPReceiver
from harness.support import REPO, wait_for
from prometheus_client import CollectorRegistry

from hypertool_exporter.bundle.config import BundleConfig
from hypertool_exporter.bundle.dashboards import specs
from hypertool_exporter.bundle.rules import rules_document
from hypertool_exporter.instrument import tracing
from hypertool_exporter.instrument.collector import (
    PersonaMetricsCollector,
    set_persona_metrics_collector,
)
from hypertool_exporter.instrument.langfuse_api import set_langfuse_integration
from hypertool_exporter.model.catalog import BY_NAME

USER = "langfuse.user.id"
SESSION = "langfuse.session.id"


class FakeOpenAI:
    """``openai``-shaped: ``openai.chat.completions.create(...)`` (async) answers
    with a ChatCompletion-shaped object and keeps what it was called with."""

    def __init__(self, prompt_tokens: int = 150, completion_tokens: int = 800):
        self.calls: list[tuple[tuple, dict]] = []
        self.usage = (prompt_tokens, completion_tokens)
        self.chat = SimpleNamespace(completions=SimpleNamespace(create=self._create))

    async def _create(self, *args, **kwargs):
        self.calls.append((args, kwargs))
        message = SimpleNamespace(content="Here's the API design...")
        usage = SimpleNamespace(prompt_tokens=self.usage[0], completion_tokens=self.usage[1])
        return SimpleNamespace(
            model="gpt-4-0613", choices=[SimpleNamespace(message=message)], usage=usage
        )


@pytest.fixture
def app(monkeypatch, registry, example_config):
    """The process-wide collector (fresh, with the example config's budgets and
    gpt-4 price) and tracing set up from ``LANGFUSE_*`` only, as the guide says."""
    receiver = OTLPReceiver()
    monkeypatch.setenv("LANGFUSE_PUBLIC_KEY", "pk-lf-test")
    monkeypatch.setenv("LANGFUSE_SECRET_KEY", "sk-lf-test")
    monkeypatch.setenv("LANGFUSE_HOST", receiver.url)
    collector = PersonaMetricsCollector(registry, config=example_config)
    previous = set_persona_metrics_collector(collector)
    set_langfuse_integration(None)
    tracing.shutdown_tracing()
    tracing.state.auto_tried, tracing.state.tracer = False, None
    yield SimpleNamespace(receiver=receiver, registry=registry, collector=collector)
    set_persona_metrics_collector(previous)
    set_langfuse_integration(None)
    tracing.shutdown_tracing()
    tracing.state.auto_tried, tracing.state.tracer = False, None
    receiver.stop()


def exported(receiver: OTLPReceiver, *names: str) -> dict:
    """Flush, then the received spans by name once every one of ``names`` arrived."""
    assert tracing.flush(5000)

    def arrived():
        found = {s.name: s for s in receiver.spans}
        return found if all(n in found for n in names) else None

    return wait_for(arrived, timeout=10, what=f"spans {names}")


def tokens(registry, persona, chatmode, model, token_type):
    labels = {"persona": persona, "chatmode": chatmode, "model": model, "token_type": token_type}
    return registry.get_sample_value("hypertool_persona_tokens_used_total", labels) or 0.0


# -- hypertool-langfuse-guide.md --------------------------------------------


def test_guide_quick_start(app):
    openai = FakeOpenAI()
    from hypertool_exporter import (
        ObservableLLM,
        get_langfuse_integration,
    )

    # Initialize Langfuse (automatically uses env vars)
    langfuse = get_langfuse_integration()

    # Wrap your LLM function
    async def my_llm_call(prompt: str) -> str:
        # Your actual LLM API call
        return await openai.chat.completions.create(...)

    # Create observable wrapper
    observable_llm = ObservableLLM(
        llm_function=my_llm_call,
        model="gpt-4",
        langfuse=langfuse,
    )

    async def example():
        # Use it (automatic tracing!)
        return await observable_llm(
            "Design a REST API for user profiles",
            persona="backend-engineer",
            chatmode="feature-implementation",
        )

    response = asyncio.run(example())

    assert response.choices[0].message.content == "Here's the API design..."
    assert openai.calls == [((...,), {})]  # persona and chatmode never reached the function
    registry = app.registry
    assert tokens(registry, "backend-engineer", "feature-implementation", "gpt-4", "input") == 150
    assert tokens(registry, "backend-engineer", "feature-implementation", "gpt-4", "output") == 800
    assert registry.get_sample_value(  # gpt-4 at $0.03 / $0.06 per 1K tokens
        "hypertool_persona_cost_usd_total",
        {"persona": "backend-engineer", "chatmode": "feature-implementation", "model": "gpt-4"},
    ) == pytest.approx(0.0525)
    assert (
        registry.get_sample_value(
            "hypertool_persona_token_budget_remaining", {"persona": "backend-engineer"}
        )
        == 5000 - 950
    )
    # Traces appear in Langfuse with persona as user (and the chat mode as session).
    span = exported(app.receiver, "chat gpt-4")["chat gpt-4"]
    assert (span.attributes[USER], span.attributes[SESSION]) == (
        "backend-engineer",
        "feature-implementation",
    )
    assert span.attributes["langfuse.observation.type"] == "generation"
    assert (
        span.attributes["gen_ai.usage.input_tokens"],
        span.attributes["gen_ai.usage.output_tokens"],
    ) == (150, 800)
    path, headers = app.receiver.requests[0]
    assert path == "/api/public/otel/v1/traces"
    assert (
        headers["authorization"] == "Basic " + base64.b64encode(b"pk-lf-test:sk-lf-test").decode()
    )


def test_guide_traces_spans_and_generations(app):
    from hypertool_exporter import get_langfuse_integration

    langfuse = get_langfuse_integration()

    # Start a trace for a workflow
    trace = langfuse.start_trace(
        name="package-release-workflow",
        persona="backend-engineer",
        chatmode="package-release",
        metadata={"version": "1.2.0"},
    )

    # Create a span for a specific stage
    span = langfuse.start_span(
        trace=trace,
        name="api-design-stage",
        metadata={"stage": "design"},
    )

    # Record an LLM call
    generation = langfuse.create_generation(
        trace=trace,
        name="design-api",
        model="gpt-4",
        prompt="Design REST API for user profiles",
        completion="Here's the API design...",
        usage={"prompt_tokens": 150, "completion_tokens": 800, "total_tokens": 950},
    )

    # End trace
    langfuse.end_trace(trace, status="success")

    assert generation.kind == "generation" and span.ended  # end_trace closed the open span
    registry = app.registry
    assert tokens(registry, "backend-engineer", "package-release", "gpt-4", "input") == 150
    assert tokens(registry, "backend-engineer", "package-release", "gpt-4", "output") == 800
    spans = exported(app.receiver, "package-release-workflow", "api-design-stage", "design-api")
    root = spans["package-release-workflow"]
    assert root.parent_id is None
    assert root.attributes["langfuse.trace.name"] == "package-release-workflow"
    assert root.attributes["langfuse.trace.metadata.version"] == "1.2.0"
    assert (root.attributes[USER], root.attributes[SESSION]) == (
        "backend-engineer",
        "package-release",
    )
    assert root.status_code == 1  # OK
    stage, gen = spans["api-design-stage"], spans["design-api"]
    assert stage.parent_id == gen.parent_id == root.span_id
    assert stage.attributes["langfuse.observation.type"] == "span"
    assert stage.attributes["langfuse.observation.metadata.stage"] == "design"
    assert gen.attributes["langfuse.observation.type"] == "generation"
    assert gen.attributes[USER] == "backend-engineer"
    # Content stays off spans unless HYPERTOOL_CAPTURE_CONTENT is set.
    assert "gen_ai.prompt" not in gen.attributes


def test_guide_basic_usage_existing_trace_and_decorator(app):
    openai = FakeOpenAI()
    from hypertool_exporter import ObservableLLM, get_langfuse_integration, observe_llm

    langfuse = get_langfuse_integration()

    # Define your LLM function
    async def call_openai(prompt: str) -> str:
        response = await openai.chat.completions.create(
            model="gpt-4", messages=[{"role": "user", "content": prompt}]
        )
        return response.choices[0].message.content

    # Wrap it
    observable_llm = ObservableLLM(
        llm_function=call_openai,
        model="gpt-4",
    )

    # Decorate your function
    @observe_llm(model="gpt-4", persona="backend-engineer")
    async def design_api(requirements: str) -> str:
        # Your LLM call
        return await openai.chat.completions.create(...)

    async def example():
        # Use it
        response = await observable_llm(
            prompt="Write a FastAPI endpoint", persona="backend-engineer", chatmode="coding"
        )
        assert response == "Here's the API design..."

        # Start workflow trace
        workflow_trace = langfuse.start_trace(
            name="multi-stage-workflow",
            persona="multi-persona",
            chatmode="feature-implementation",
        )

        # Stage 1: Backend
        await observable_llm(
            prompt="Design API models",
            persona="backend-engineer",
            chatmode="feature-implementation",
            trace=workflow_trace,  # ← Attach to existing trace
        )

        # Stage 2: Frontend
        await observable_llm(
            prompt="Create React components",
            persona="frontend-engineer",
            chatmode="feature-implementation",
            trace=workflow_trace,  # ← Same trace
        )

        # End trace
        langfuse.end_trace(workflow_trace, status="success")

        # Use it (automatic tracing!)
        return await design_api("User authentication system")

    result = asyncio.run(example())

    assert result.usage.prompt_tokens == 150
    # The wrapped function got only its prompt: the wrapper's keywords stay with it.
    prompts = [kwargs["messages"][0]["content"] for _, kwargs in openai.calls[:3]]
    assert prompts == ["Write a FastAPI endpoint", "Design API models", "Create React components"]
    get = app.registry.get_sample_value
    # call_openai returns text: the calls are counted, their usage unknown (never estimated).
    for persona, chatmode in (
        ("backend-engineer", "coding"),
        ("backend-engineer", "feature-implementation"),
        ("frontend-engineer", "feature-implementation"),
    ):
        assert tokens(app.registry, persona, chatmode, "gpt-4", "input") == 0
    assert (
        get("hypertool_llm_usage_unknown_total", {"persona": "frontend-engineer", "model": "gpt-4"})
        == 1
    )
    # The decorated function returns the response object: its usage is read.
    assert tokens(app.registry, "backend-engineer", "default", "gpt-4", "input") == 150
    exported(app.receiver, "multi-stage-workflow")
    root = next(s for s in app.receiver.spans if s.name == "multi-stage-workflow")
    children = [s for s in app.receiver.spans if s.parent_id == root.span_id]
    assert sorted(s.attributes[USER] for s in children) == ["backend-engineer", "frontend-engineer"]
    assert all(s.trace_id == root.trace_id for s in children)


def test_guide_programmatic_configuration_sends_to_that_host(app, monkeypatch):
    for name in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "LANGFUSE_HOST"):
        monkeypatch.delenv(name)
    host = app.receiver.url
    from hypertool_exporter import LangfuseIntegration

    # Custom configuration
    langfuse = LangfuseIntegration(public_key="pk-lf-...", secret_key="sk-lf-...", host=host)

    trace = langfuse.start_trace(
        name="bug-fix",
        persona="backend-engineer",
        chatmode="debugging",
        metadata={
            "issue_id": "BUG-1234",
            "priority": "high",
            "repository": "tta-dev-primitives",
            "estimated_complexity": "medium",
        },
    )
    langfuse.end_trace(trace, status="success")
    langfuse.flush()  # ← Forces immediate send

    span = exported(app.receiver, "bug-fix")["bug-fix"]
    assert span.attributes["langfuse.trace.metadata.issue_id"] == "BUG-1234"
    assert langfuse.enabled and langfuse.langfuse.base_url == host
    _, headers = app.receiver.requests[0]
    assert headers["authorization"] == "Basic " + base64.b64encode(b"pk-lf-...:sk-lf-...").decode()


def test_guide_always_end_traces_marks_errors(app):
    from hypertool_exporter import get_langfuse_integration

    langfuse = get_langfuse_integration()

    async def execute_workflow():
        raise RuntimeError("stage 2 failed")

    async def example():
        try:
            trace = langfuse.start_trace(name="feature-implementation", persona="backend-engineer")
            # Your workflow
            result = await execute_workflow()
            langfuse.end_trace(trace, status="success")
        except Exception:
            langfuse.end_trace(trace, status="error")
            raise
        return result

    with pytest.raises(RuntimeError):
        asyncio.run(example())
    span = exported(app.receiver, "feature-implementation")["feature-implementation"]
    assert span.status_code == 2  # ERROR
    assert span.attributes["langfuse.observation.level"] == "ERROR"


def test_guide_graceful_degradation_without_langfuse(
    monkeypatch, request, registry, example_config, caplog
):
    for name in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    previous = set_persona_metrics_collector(
        PersonaMetricsCollector(registry, config=example_config)
    )
    request.addfinalizer(lambda: set_persona_metrics_collector(previous))
    set_langfuse_integration(None)
    request.addfinalizer(lambda: set_langfuse_integration(None))
    tracing.shutdown_tracing()
    tracing.state.auto_tried, tracing.state.tracer = False, None

    logging.basicConfig(level=logging.DEBUG)

    # Will show detailed error messages
    from hypertool_exporter import get_langfuse_integration

    with caplog.at_level(logging.WARNING):
        langfuse = get_langfuse_integration()
        trace = langfuse.start_trace("no-backend", persona="backend-engineer")
        langfuse.create_generation(trace, "g", "gpt-4", usage={"input": 10, "output": 5})
        langfuse.end_trace(trace)
        assert langfuse.flush() is True
    assert not langfuse.enabled
    assert [r.message for r in caplog.records].count(
        "Langfuse not configured: traces are not exported (set LANGFUSE_PUBLIC_KEY and "
        "LANGFUSE_SECRET_KEY); metrics are recorded as usual"
    ) == 1
    assert tokens(registry, "backend-engineer", "default", "gpt-4", "input") == 10  # metrics still


def test_guide_test_workflow_command(app):
    """The guide's ``python -m ...test_instrumented_workflow``, as the README gives it."""
    readme = (REPO / "README.md").read_text()
    marker = "<!-- snippet: run as written by tests/unit/test_seed_examples.py -->\n```sh\n"
    command = readme.split(marker, 1)[1].split("```", 1)[0].strip()
    assert command == "python -m hypertool_exporter.examples.instrumented_workflow"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERTOOL_")}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env["PATH"]
    done = subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "🚀 Starting Package Release Workflow" in out
    assert (
        "📝 Stage 1: Version Bump\n"
        "   Persona: backend-engineer\n"
        "   ✅ Mock LLM response for: Implement backend for: Update version to 1.2.0\n"
        "   📊 Tokens: 850\n"
    ) in out
    budgets = re.findall(r"💰 Budget remaining: (\d+)", out)
    assert budgets == ["4150", "2800", "2400"]  # 5000 - 850, 4000 - 1200, 3000 - 600
    assert "✅ Package Release Workflow Complete!" in out
    assert f"🔍 Langfuse tracing enabled!\n   Host: {app.receiver.url}" in out
    wait_for(lambda: len(app.receiver.by_name("workflow package_release")) == 1, what="spans")
    stages = [s for s in app.receiver.spans if s.name.startswith("stage ")]
    assert sorted(s.attributes[USER] for s in stages) == [
        "backend-engineer",
        "devops-engineer",
        "testing-specialist",
    ]
    assert {s.attributes["langfuse.trace.tags"] for s in stages} == {
        ("package_release", "version_bump"),
        ("package_release", "quality_validation"),
        ("package_release", "publish_deploy"),
    }
    unconfigured = {k: v for k, v in env.items() if not k.startswith(("LANGFUSE_", "OTEL_"))}
    done = subprocess.run(
        ["bash", "-c", command], env=unconfigured, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and "⚠️  Langfuse not configured" in done.stdout


# -- hypertool-phase5-apm-plan.md --------------------------------------------


def test_plan_collector_and_persona_cli(app):
    from hypertool_exporter import get_persona_metrics_collector

    current = None

    def get_current_persona():
        return current

    def switch_persona(to_persona: str, chatmode: str = None):  # noqa: RUF013 (as written)
        """Switch to a different persona."""
        collector = get_persona_metrics_collector()
        current = get_current_persona()

        # Record switch
        collector.switch_persona(
            from_persona=current, to_persona=to_persona, chatmode=chatmode or "default"
        )

    switch_persona("backend-engineer", "feature-implementation")
    collector = get_persona_metrics_collector()
    collector.record_token_usage("backend-engineer", "feature-implementation", "gpt-4", 1200)
    collector.record_workflow_stage(
        "package_release", "version_bump", "backend-engineer", 42.0, True
    )

    get = app.registry.get_sample_value
    assert (
        get(
            "hypertool_persona_switches_total",
            {
                "from_persona": "none",
                "to_persona": "backend-engineer",
                "chatmode": "feature-implementation",
            },
        )
        == 1
    )
    assert (
        tokens(app.registry, "backend-engineer", "feature-implementation", "gpt-4", "input") == 1200
    )
    assert (
        get(
            "hypertool_workflow_quality_gate_total",
            {
                "workflow": "package_release",
                "stage": "version_bump",
                "result": "passed",
                "persona": "backend-engineer",
            },
        )
        == 1
    )
    span = exported(app.receiver, "persona_switch")["persona_switch"]
    assert span.attributes["hypertool.persona.to"] == "backend-engineer"
    assert span.attributes[USER] == "backend-engineer"


def test_plan_instrumented_package_release_workflow(app):
    from hypertool_exporter import WorkflowTracer

    async def backend_version_bump(version, changelog):
        return {"version": version, "changelog": changelog}

    async def testing_validation(release_data):
        return {**release_data, "tests": "passed"}

    async def devops_publish(validated_release):
        return f"published {validated_release['version']}"

    async def package_release_workflow(version: str, changelog: str):
        """Package release workflow with full observability."""

        async with WorkflowTracer("package_release") as tracer:
            # Stage 1: Backend Engineer
            result1 = await tracer.trace_stage(
                stage_name="version_bump",
                persona="backend-engineer",
                func=backend_version_bump,
                version=version,
                changelog=changelog,
            )

            # Stage 2: Testing Specialist
            result2 = await tracer.trace_stage(
                stage_name="quality_validation",
                persona="testing-specialist",
                func=testing_validation,
                release_data=result1,
            )

            # Stage 3: DevOps Engineer
            result3 = await tracer.trace_stage(
                stage_name="publish_deploy",
                persona="devops-engineer",
                func=devops_publish,
                validated_release=result2,
            )

            return result3

    async def main():
        result = await package_release_workflow(version="0.3.0", changelog="Added APM integration")
        print(f"✅ Release complete: {result}")
        return result

    assert asyncio.run(main()) == "published 0.3.0"
    get = app.registry.get_sample_value
    for stage, persona in (
        ("version_bump", "backend-engineer"),
        ("quality_validation", "testing-specialist"),
        ("publish_deploy", "devops-engineer"),
    ):
        labels = {"workflow": "package_release", "stage": stage, "persona": persona}
        assert get("hypertool_workflow_stage_duration_seconds_count", labels) == 1
    spans = exported(app.receiver, "workflow package_release", "stage publish_deploy")
    root = spans["workflow package_release"]
    assert spans["stage publish_deploy"].parent_id == root.span_id
    assert spans["stage publish_deploy"].attributes[USER] == "devops-engineer"


def test_plan_observable_llm_generate(app):
    from hypertool_exporter import ObservableLLM

    llm = ObservableLLM(persona="backend-engineer", chatmode="code-generation")
    with pytest.raises(TypeError, match=r"pass llm_function= .* or client="):
        asyncio.run(llm.generate(prompt="Generate FastAPI endpoint"))

    client = FakeOpenAI(prompt_tokens=100, completion_tokens=50)
    llm = ObservableLLM(
        persona="backend-engineer",
        chatmode="code-generation",
        model="gpt-4",
        cost_per_1k_tokens=0.03,  # Default GPT-4 pricing
        client=client,
    )
    result = asyncio.run(
        llm.generate(
            prompt="Generate FastAPI endpoint",
            system_message="You are a backend engineer",
            temperature=0.2,
            max_tokens=500,
            metadata={"ticket": "API-7"},
        )
    )
    assert result["response"] == "Here's the API design..."
    assert result["tokens_used"] == 150
    assert result["cost_usd"] == pytest.approx(150 / 1000 * 0.03)
    assert result["latency_ms"] >= 0
    [(_, kwargs)] = client.calls
    assert kwargs["messages"][0] == {"role": "system", "content": "You are a backend engineer"}
    assert (kwargs["model"], kwargs["temperature"], kwargs["max_tokens"]) == ("gpt-4", 0.2, 500)
    assert app.registry.get_sample_value(  # the override priced the metric too
        "hypertool_persona_cost_usd_total",
        {"persona": "backend-engineer", "chatmode": "code-generation", "model": "gpt-4"},
    ) == pytest.approx(0.0045)
    span = exported(app.receiver, "chat gpt-4")["chat gpt-4"]
    assert span.attributes["langfuse.observation.metadata.ticket"] == "API-7"


def test_plan_langfuse_integration_trace_llm_call_and_init(app):
    from hypertool_exporter import get_langfuse, initialize_observability

    langfuse = get_langfuse()

    async def example():
        await langfuse.trace_llm_call(
            persona="backend-engineer",
            chatmode="code-generation",
            model="gpt-4",
            prompt="Generate FastAPI endpoint",
            response="[LLM Response]",
            tokens_used=150,
            cost_usd=0.0045,
            latency_ms=820.0,
        )

    asyncio.run(example())
    langfuse.flush()

    def init_hypertool_apm():
        """Initialize APM for Hypertool."""
        # Start OpenTelemetry + Prometheus (on a free port here, not 9464)
        collector = initialize_observability(
            service_name="hypertool-persona-system", enable_prometheus=True, prometheus_port=0
        )

        # Verify Langfuse connection
        langfuse = get_langfuse()
        print("✅ Langfuse initialized")
        print(f"   Host: {langfuse.langfuse.base_url}")
        return collector

    assert init_hypertool_apm() is app.collector
    get = app.registry.get_sample_value
    assert tokens(app.registry, "backend-engineer", "code-generation", "gpt-4", "input") == 150
    assert get(
        "hypertool_persona_reported_cost_usd_total",
        {
            "persona": "backend-engineer",
            "chatmode": "code-generation",
            "model": "gpt-4",
            "source": "provider",
        },
    ) == pytest.approx(0.0045)
    assert get(
        "hypertool_llm_request_duration_seconds_sum",
        {"persona": "backend-engineer", "model": "gpt-4"},
    ) == pytest.approx(0.82)
    spans = exported(app.receiver, "backend-engineer_code-generation_llm_call", "llm_call")
    assert spans["llm_call"].parent_id == spans["backend-engineer_code-generation_llm_call"].span_id
    assert app.collector.exporter.server is not None


# -- names the documents use --------------------------------------------------

#: The plan's panel titles -> ours (same metric underneath; see the README's
#: "Coming from the Hypertool documents").
PLAN_PANELS = {
    "Persona Switches (Last 24h)": ("Persona switches", "hypertool_persona_switches_total"),
    "Token Usage by Persona": ("Tokens by persona", "hypertool_persona_tokens_used_total"),
    "Average Session Duration": ("Time spent per persona", "hypertool_persona_duration_seconds"),
    "Top Chatmodes": ("Top chat modes", "hypertool_persona_switches_total"),
    "Workflow Execution Time": ("Stage duration", "hypertool_workflow_stage_duration_seconds"),
    "Quality Gate Pass Rate": ("Quality-gate pass rate", "hypertool_workflow_quality_gate_total"),
    "Stage Duration by Persona": (
        "Stage duration p50 / p95",
        "hypertool_workflow_stage_duration_seconds",
    ),
}


def test_the_documents_metric_names_panels_and_alerts_exist():
    """Every metric the plan names is ours; each of its panels has a counterpart
    over the same metric (and the README maps the titles); its alerts exist."""
    named = {
        "hypertool_persona_switches_total",
        "hypertool_persona_duration_seconds",
        "hypertool_persona_tokens_used_total",
        "hypertool_persona_token_budget_remaining",
        "hypertool_workflow_stage_duration_seconds",
        "hypertool_workflow_quality_gate_total",
    }
    for name in named:
        assert name in BY_NAME, name
    panels = {
        panel.title: " ".join(query.expr for query in panel.queries)
        for spec in specs(BundleConfig())
        for panel in spec.panels
    }
    readme = (REPO / "README.md").read_text()
    for seed_title, (title, metric) in PLAN_PANELS.items():
        assert title in panels, f"{seed_title!r} -> {title!r} is not a panel"
        assert metric in panels[title], (title, panels[title])
        assert f"| {seed_title} | {title} |" in readme, seed_title
    alerts = {
        rule["alert"]
        for group in rules_document(BundleConfig())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    for name in (
        "PersonaTokenBudgetExceeded",
        "HighPersonaSwitchRate",
        "WorkflowQualityGateFailure",
        "WorkflowStageSlow",
    ):
        assert name in alerts, name


# -- leftovers: the plan's collector attributes, the guide's LANGFUSE_DEBUG ----


def test_the_plan_s_collector_says_where_its_session_is(registry, tmp_path):
    """The plan's CLI reads ``current_persona`` (and ``persona_start_time``)."""
    collector = PersonaMetricsCollector(registry)
    assert collector.current_persona is None and collector.persona_start_time is None
    collector.switch_persona(None, "backend-engineer", "implement")
    assert collector.current_persona == "backend-engineer"
    started = collector.persona_start_time
    assert started is not None and abs(started - time.time()) < 60
    collector.switch_persona(collector.current_persona, "testing-specialist", "test")
    assert collector.current_persona == "testing-specialist"
    assert collector.persona_start_time >= started
    # Another session's switch is its own.
    collector.switch_persona(None, "devops-engineer", "deploy", session="ci")
    assert collector.current_persona == "testing-specialist"
    # A journalled collector shows what it folded from the journal.
    journalled = PersonaMetricsCollector(CollectorRegistry(), journal=tmp_path / "journal.sqlite")
    try:
        journalled.switch_persona(None, "security-auditor", "review")
        wait_for(
            lambda: journalled.current_persona == "security-auditor",
            what="the journalled switch to be folded",
        )
    finally:
        journalled.close()


def test_langfuse_debug_logs_what_the_facade_does(app, monkeypatch, caplog):
    """The guide's troubleshooting sets LANGFUSE_DEBUG: each trace and
    generation is then logged at debug level, with its persona and tokens."""

    logger = logging.getLogger("hypertool_exporter.instrument.langfuse_api")
    caplog.handler.setLevel(logging.DEBUG)
    previous = logger.level
    logger.setLevel(logging.WARNING)  # a process without the flag
    try:
        _quiet_then_loud(app, monkeypatch, caplog)
    finally:
        logger.setLevel(previous)


def _quiet_then_loud(app, monkeypatch, caplog):
    from hypertool_exporter.instrument.langfuse_api import LangfuseIntegration

    monkeypatch.setenv("LANGFUSE_DEBUG", "false")
    quiet = LangfuseIntegration(collector=app.collector)
    trace = quiet.start_trace("quiet", persona="qa")
    quiet.create_generation(trace, "g", "gpt-4", usage={"input": 1, "output": 1})
    quiet.end_trace(trace)
    assert not [r for r in caplog.records if r.levelno == logging.DEBUG]
    monkeypatch.setenv("LANGFUSE_DEBUG", "true")
    loud = LangfuseIntegration(collector=app.collector)
    trace = loud.start_trace("loud", persona="qa")
    loud.create_generation(trace, "answer", "gpt-4", usage={"input": 12, "output": 3})
    loud.end_trace(trace)
    said = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any(m.startswith("Langfuse facade: spans exported for ") for m in said), said
    assert any(m.startswith("trace 'loud' started: ") and "persona qa" in m for m in said)
    assert any(
        "generation 'answer'" in m and "model gpt-4, tokens in/out 12/3" in m for m in said
    ), said
