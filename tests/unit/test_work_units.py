"""Work units in process: workflow runs, the cost and tokens of each stage,
tool calls and quality scores, with exact figures; the same from the
journal, over HTTP and from the Langfuse facade; label caps hold."""

import asyncio
import json
import threading
import urllib.error
import urllib.request

import pytest
from harness.support import wait_for
from prometheus_client import CollectorRegistry

from hypertool_exporter import ObservableLLM, PersonaMetricsCollector, WorkflowTracer
from hypertool_exporter.app import Ready, run_server
from hypertool_exporter.instrument.langfuse_api import LangfuseIntegration
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.fields import EventError

#: USD per 1K tokens: a 1,000-input, 500-output call costs 0.03 + 0.03.
CONFIG = "pricing:\n  m: {input: 0.03, output: 0.06}\n"


def value(registry, name, **labels):
    return registry.get_sample_value(name, labels) or 0.0


def three_stages(collector):
    """A run whose second stage's gate fails: implement, test (failed), deploy."""
    with WorkflowTracer("package-release", collector=collector) as run:
        with run.stage("implement", "backend-engineer") as stage:
            collector.record_token_usage("backend-engineer", "implement", "m", 1000, 500)
            collector.record_tool_call("backend-engineer", "edit_file", 0.2)
            stage.passed = True
        with run.stage("test", "testing-specialist") as stage:
            collector.record_token_usage("testing-specialist", "test", "m", 2000, 0)
            with pytest.raises(TimeoutError), collector.tool_call("testing-specialist", "pytest"):
                raise TimeoutError("suite hung")
            collector.record_quality_score("testing-specialist", "coverage", 0.62, label="low")
            stage.passed = False
        with run.stage("deploy", "devops-engineer"):
            collector.record_token_usage("devops-engineer", "deploy", "m", 100, 100)
            collector.record_quality_score("devops-engineer", "coverage", 0.91)
        # Outside every stage: the persona's, no stage's.
        collector.record_token_usage("backend-engineer", "implement", "m", 7, 0)


def test_a_failing_stage_fails_the_run_and_every_stage_has_its_exact_cost(registry):
    collector = PersonaMetricsCollector(registry, config=parse_config(CONFIG))
    three_stages(collector)
    runs = "hypertool_workflow_runs_total"
    assert value(registry, runs, workflow="package-release", result="failed") == 1
    assert value(registry, runs, workflow="package-release", result="succeeded") == 0
    count = "hypertool_workflow_run_duration_seconds_count"
    assert value(registry, count, workflow="package-release", result="failed") == 1
    cost = "hypertool_workflow_cost_usd_total"
    for stage, usd in (("implement", 0.06), ("test", 0.06), ("deploy", 0.009)):
        got = value(registry, cost, workflow="package-release", stage=stage)
        assert got == pytest.approx(usd, abs=1e-9), stage
    tokens = "hypertool_workflow_tokens_total"
    assert (
        value(registry, tokens, workflow="package-release", stage="test", token_type="input")
        == 2000
    )
    assert (
        value(registry, tokens, workflow="package-release", stage="implement", token_type="output")
        == 500
    )
    # The call outside the stages counts for its persona only.
    persona = "hypertool_persona_tokens_used_total"
    labels = {"persona": "backend-engineer", "chatmode": "implement", "model": "m"}
    assert value(registry, persona, **labels, token_type="input") == 1007
    calls = "hypertool_tool_calls_total"
    assert (
        value(registry, calls, persona="backend-engineer", tool="edit_file", result="succeeded")
        == 1
    )
    assert value(registry, calls, persona="testing-specialist", tool="pytest", result="failed") == 1
    assert (
        value(registry, calls, persona="testing-specialist", tool="pytest", result="succeeded") == 0
    )
    assert (
        value(
            registry,
            "hypertool_tool_call_duration_seconds_count",
            persona="testing-specialist",
            tool="pytest",
        )
        == 1
    )
    scores = "hypertool_quality_score"
    assert (
        value(registry, f"{scores}_count", persona="testing-specialist", evaluation="coverage") == 1
    )
    assert value(
        registry, f"{scores}_sum", persona="testing-specialist", evaluation="coverage"
    ) == pytest.approx(0.62)
    assert (
        value(
            registry,
            f"{scores}_bucket",
            persona="testing-specialist",
            evaluation="coverage",
            le="0.7",
        )
        == 1
    )
    assert (
        value(
            registry,
            f"{scores}_bucket",
            persona="testing-specialist",
            evaluation="coverage",
            le="0.6",
        )
        == 0
    )
    evaluations = "hypertool_evaluations_total"
    assert (
        value(
            registry, evaluations, persona="testing-specialist", evaluation="coverage", label="low"
        )
        == 1
    )
    assert (
        value(registry, evaluations, persona="devops-engineer", evaluation="coverage", label="")
        == 1
    )
    # A clean run succeeds; one an exception leaves fails and the exception goes on.
    with (
        WorkflowTracer("code-review", collector=collector) as run,
        run.stage("review", "security-auditor") as stage,
    ):
        stage.passed = True
    with pytest.raises(RuntimeError), WorkflowTracer("code-review", collector=collector):
        raise RuntimeError("reviewer crashed")
    assert value(registry, runs, workflow="code-review", result="succeeded") == 1
    assert value(registry, runs, workflow="code-review", result="failed") == 1

    @collector.tool_call("qa", "lint")  # the context manager is a decorator too
    def lint():
        return "clean"

    assert lint() == lint() == "clean"
    assert value(registry, calls, persona="qa", tool="lint", result="succeeded") == 2


def test_calls_made_through_any_instrument_inside_a_stage_are_charged_to_it(registry):
    collector = PersonaMetricsCollector(registry, config=parse_config(CONFIG))

    def llm(prompt):
        return {"model": "m", "usage": {"prompt_tokens": 1000, "completion_tokens": 0}}

    async def async_stage(run):
        async def call_llm():
            collector.record_token_usage("qa", "test", "m", 1000, 0)

        await asyncio.gather(call_llm(), call_llm())  # tasks inherit the stage

    async def main():
        async with WorkflowTracer("nightly", collector=collector) as run:
            with run.stage("observe", "qa"):
                ObservableLLM(llm, "m", "qa", collector=collector)("hello")
            await run.trace_stage("gather", "qa", async_stage, run)
            facade = LangfuseIntegration(collector=collector)
            with run.stage("facade", "qa"):
                trace = facade.start_trace("t", persona="qa")
                facade.create_generation(trace, "g", "m", usage={"input": 1000, "output": 0})
                facade.end_trace(trace)

    asyncio.run(main())
    cost = "hypertool_workflow_cost_usd_total"
    assert value(registry, cost, workflow="nightly", stage="observe") == pytest.approx(0.03)
    assert value(registry, cost, workflow="nightly", stage="gather") == pytest.approx(0.06)
    assert value(registry, cost, workflow="nightly", stage="facade") == pytest.approx(0.03)
    assert (
        value(registry, "hypertool_workflow_runs_total", workflow="nightly", result="succeeded")
        == 1
    )
    # A stage in one thread is not another thread's.
    seen = []
    with WorkflowTracer("threads", collector=collector) as run, run.stage("mine", "qa"):
        worker = threading.Thread(
            target=lambda: seen.append(collector.record_token_usage("qa", "x", "m", 5, 0))
        )
        worker.start()
        worker.join()
    tokens = "hypertool_workflow_tokens_total"
    assert value(registry, tokens, workflow="threads", stage="mine", token_type="input") == 0


def test_the_langfuse_facade_scores_in_langfuse_s_shape_and_the_plan_s(registry):
    collector = PersonaMetricsCollector(registry, config=parse_config(CONFIG))
    facade = LangfuseIntegration(collector=collector)
    trace = facade.start_trace("review", persona="security-auditor")
    facade.score(trace, 0.75, name="faithfulness")
    facade.score(trace, "relevant", name="relevance")
    facade.end_trace(trace)
    facade.score(
        trace_id="0af7651916cd43dd8448eb211c80319c", name="quality", value=0.5, persona="qa"
    )
    facade.score("item-7", 0.9, persona="qa")  # the plan's langfuse.score(item.id, score)
    asyncio.run(
        facade.trace_persona_generation(
            "backend-engineer", "code_generation", {"spec": "x"}, {"code": "y"},
            quality_score=0.88, model="m", usage={"input": 100, "output": 10},
        )
    )  # fmt: skip
    scores = "hypertool_quality_score"
    assert (
        value(registry, f"{scores}_sum", persona="security-auditor", evaluation="faithfulness")
        == 0.75
    )
    assert (
        value(
            registry,
            "hypertool_evaluations_total",
            persona="security-auditor",
            evaluation="relevance",
            label="relevant",
        )
        == 1
    )
    assert value(registry, f"{scores}_count", persona="qa", evaluation="quality") == 2
    assert (
        value(registry, f"{scores}_sum", persona="backend-engineer", evaluation="quality") == 0.88
    )
    tokens = "hypertool_persona_tokens_used_total"
    labels = {"persona": "backend-engineer", "chatmode": "default", "model": "m"}
    assert value(registry, tokens, **labels, token_type="input") == 100
    with pytest.raises(EventError, match="value"):
        facade.score(trace, None)


def test_bad_work_input_is_named_and_records_nothing(registry):
    collector = PersonaMetricsCollector(registry)
    for call, field in (
        (lambda: collector.record_workflow_run("w", "maybe", 1.0), "result"),
        (lambda: collector.record_workflow_run("w", True, -1.0), "duration_seconds"),
        (lambda: collector.record_tool_call("qa", "", 1.0), "tool"),
        (lambda: collector.record_quality_score("qa", "relevance"), "score"),
        (lambda: collector.record_quality_score("qa", "relevance", float("nan")), "score"),
        (lambda: collector.record_quality_score("qa", "relevance", -0.1), "score"),
        (lambda: collector.record_token_usage("qa", "c", "m", 1, 0, workflow="w"), "stage"),
    ):
        with pytest.raises(EventError) as refused:
            call()
        assert refused.value.field == field
    assert (
        registry.get_sample_value(
            "hypertool_exporter_events_rejected_total", {"reason": "invalid_field"}
        )
        == 7
    )
    text = "\n".join(
        f"{s.name} {s.value}"
        for m in registry.collect()
        for s in m.samples
        if "workflow_runs" in s.name
    )
    assert " 1.0" not in text


def test_tools_and_evaluations_are_capped_like_every_label(registry):
    config = parse_config("limits:\n  max_label_values: 3\n")
    collector = PersonaMetricsCollector(registry, config=config)
    for n in range(5):
        collector.record_tool_call("qa", f"tool-{n}", 0.1)
        collector.record_quality_score("qa", f"eval-{n}", 0.5, label=f"verdict-{n}")
    tools = {
        s.labels["tool"]
        for m in registry.collect()
        for s in m.samples
        if s.name == "hypertool_tool_calls_total"
    }
    assert tools == {"tool-0", "tool-1", "tool-2", "__other__"}
    folded = "hypertool_exporter_label_values_folded_total"
    assert value(registry, folded, label="tool") == 2
    assert value(registry, folded, label="evaluation") == 2
    assert value(registry, folded, label="label") == 2


TOKEN = "work-units-token-0123456789abcdef"


def test_work_events_over_http_and_back_from_the_journal(tmp_path):
    journal = tmp_path / "journal.sqlite"
    config = parse_config(f"ingest: {{token: {TOKEN}}}\n{CONFIG}")
    stop, ready = threading.Event(), Ready()
    server = threading.Thread(
        target=run_server,
        args=(config, "127.0.0.1", 0, str(journal)),
        kwargs={"ready": ready, "stop": stop},
        daemon=True,
    )
    server.start()
    assert ready.wait(15)
    url = f"http://127.0.0.1:{ready.port}"
    events = [
        {
            "type": "workflow_run_finished",
            "workflow": "w",
            "result": "succeeded",
            "duration_seconds": 12.5,
        },
        {"type": "tool_call_finished", "persona": "qa", "tool": "grep", "duration_seconds": 0.1},
        {"type": "quality_scored", "persona": "qa", "evaluation": "e", "score": 1.0},
        {
            "type": "tokens_used",
            "persona": "qa",
            "model": "m",
            "input_tokens": 1000,
            "workflow": "w",
            "stage": "s",
        },
    ]

    def post(body):
        request = urllib.request.Request(
            f"{url}/v1/events",
            data=json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    try:
        assert post(events)[0] == 202
        status, answer = post([{**events[0], "result": "fine"}])
        assert status == 400 and answer["field"] == "[0].result"
        status, answer = post([{"type": "quality_scored", "persona": "qa", "evaluation": "e"}])
        assert status == 400 and answer["field"] == "[0].score"

        def scraped():
            with urllib.request.urlopen(f"{url}/metrics") as response:
                text = response.read().decode()
            return (
                text
                if 'hypertool_workflow_cost_usd_total{workflow="w",stage="s"} 0.03' in text
                else None
            )

        text = wait_for(scraped, what="the ingested work to be folded")
        assert 'hypertool_workflow_runs_total{workflow="w",result="succeeded"} 1.0' in text
        assert 'hypertool_tool_calls_total{persona="qa",tool="grep",result="succeeded"} 1.0' in text
        assert 'hypertool_quality_score_count{persona="qa",evaluation="e"} 1.0' in text
    finally:
        stop.set()
        server.join(15)
    # A collector replaying the journal (no snapshot reuse: a fresh registry) agrees.
    replayed = PersonaMetricsCollector(
        CollectorRegistry(), config=parse_config(CONFIG), journal=journal
    )
    try:
        wait_for(
            lambda: (
                replayed.registry.get_sample_value(
                    "hypertool_workflow_cost_usd_total", {"workflow": "w", "stage": "s"}
                )
                == pytest.approx(0.03)
            ),
            what="the journal to be replayed",
        )
    finally:
        replayed.close()


def test_quality_score_buckets_follow_the_config_for_other_scales(tmp_path):
    from hypertool_exporter.model.config import ConfigError

    config = parse_config("metrics:\n  quality_score_buckets: [1, 2, 3, 4, 5]\n")
    registry = CollectorRegistry()
    collector = PersonaMetricsCollector(registry, config=config)
    collector.record_quality_score("qa", "stars", 4.0)
    bucket = "hypertool_quality_score_bucket"
    labels = {"persona": "qa", "evaluation": "stars"}
    assert registry.get_sample_value(bucket, {**labels, "le": "3.0"}) == 0
    assert registry.get_sample_value(bucket, {**labels, "le": "4.0"}) == 1
    assert registry.get_sample_value(bucket, {**labels, "le": "0.1"}) is None
    # The exporter's own /metrics says the same.
    port = collector.serve(port=0)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as response:
            text = response.read().decode()
    finally:
        collector.close()
    assert 'hypertool_quality_score_bucket{persona="qa",evaluation="stars",le="5.0"} 1' in text
    for bad, why in (
        ("[1, 1]", "must be greater than the last"),
        ("[]", "must be a list of bucket bounds"),
        ("[0.5, .inf]", "must be finite"),
        ("[a]", "must be a number"),
    ):
        with pytest.raises(ConfigError, match=why):
            parse_config(f"metrics:\n  quality_score_buckets: {bad}\n")
