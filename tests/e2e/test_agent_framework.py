"""A real agent framework through its own instrumentation: an OpenAI Agents
SDK agent with a function tool, against a local fake LLM server, traced by
OpenLLMetry's instrumentations (the Agents SDK's and the OpenAI client's)
and exported over OTLP to a live exporter. The agent becomes the persona of
its calls, its tool call is counted, and its calls' tokens and cost are the
workflow's."""

import os
import subprocess
import sys

import pytest
from harness.fake_openai import FakeOpenAI
from harness.support import exporter_with_config, sample

TOKEN = "agent-framework-token-0123456789ab"
CONFIG = "pricing:\n  gpt-4o-mini: {input: 0.15, output: 0.6}\n"

#: The app, as a user writes it: the agent, its tool, the instrumentations
#: and an OTLP exporter (its own process: instrumentations patch modules).
APP = """
import asyncio, os
from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_trace_processors
from openai import AsyncOpenAI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.openai import OpenAIInstrumentor
from opentelemetry.instrumentation.openai_agents import OpenAIAgentsInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

provider = TracerProvider()
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
set_trace_processors([])  # no export to OpenAI's own trace store: no network
OpenAIAgentsInstrumentor().instrument(tracer_provider=provider)
OpenAIInstrumentor().instrument(tracer_provider=provider)


@function_tool
def bump_version() -> str:
    \"\"\"Bump the package version.\"\"\"
    return "1.2.4"


client = AsyncOpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="sk-local-fake")
agent = Agent(
    name="devops-engineer",
    instructions="Release the package.",
    tools=[bump_version],
    model=OpenAIChatCompletionsModel(model="gpt-4o-mini", openai_client=client),
)
print(asyncio.run(Runner.run(agent, "Release it")).final_output)
provider.shutdown()
"""


@pytest.fixture
def exporter(tmp_path):
    proc = exporter_with_config(tmp_path, CONFIG, HYPERTOOL_INGEST_TOKEN=TOKEN)
    yield proc
    proc.stop()


def test_an_openai_agents_sdk_agent_counts_as_its_persona_with_its_tool_and_workflow(exporter):
    fake = FakeOpenAI(prompt_tokens=350, completion_tokens=120)
    try:
        done = subprocess.run(
            [sys.executable, "-c", APP],
            env={
                **os.environ,
                "OPENAI_BASE_URL": fake.url,
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{exporter.port}/v1/traces",
                "OTEL_EXPORTER_OTLP_HEADERS": f"Authorization=Bearer {TOKEN}",
                "TRACELOOP_TRACE_CONTENT": "false",
            },
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        fake.stop()
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Version bumped." in done.stdout
    assert len(fake.requests) == 2  # the tool call, then the answer
    values = exporter.scrape_when(
        lambda v: sample(
            v, "hypertool_workflow_runs_total", workflow="Agent Workflow", result="succeeded"
        ),
        what="the agent's spans to be folded",
    )
    persona = {"persona": "devops-engineer", "model": "gpt-4o-mini"}
    assert sample(values, "hypertool_llm_requests_total", **persona) == 2  # each call once
    tokens = "hypertool_persona_tokens_used_total"
    labels = {**persona, "chatmode": "default"}
    assert sample(values, tokens, **labels, token_type="input") == 700
    assert sample(values, tokens, **labels, token_type="output") == 240
    tools = "hypertool_tool_calls_total"
    assert (
        sample(values, tools, persona="devops-engineer", tool="bump_version", result="succeeded")
        == 1
    )
    cost = sample(
        values, "hypertool_workflow_cost_usd_total", workflow="Agent Workflow", stage="none"
    )
    assert cost == pytest.approx((700 * 0.15 + 240 * 0.6) / 1000)
    assert (
        sample(
            values,
            tokens,
            persona="unknown",
            chatmode="default",
            model="gpt-4o-mini",
            token_type="input",
        )
        is None
    )
