"""docs/otlp.md's snippets, run as written against a running exporter: real
OpenLLMetry (traceloop-sdk) instrumenting the real ``openai`` client (talking
to a local fake OpenAI server), the real Langfuse SDK at the Langfuse path,
and the plain OpenTelemetry SDK. Each shows exact tokens, cost and budget for
the persona its spans carry. No network: every peer is on loopback."""

import gzip
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from harness.fake_openai import FakeOpenAI
from harness.support import REPO, http_get, sample, scrape, serving_port, wait_for

DOC = (REPO / "docs" / "otlp.md").read_text()
BLOCK = re.compile(
    r"<!-- snippet: (?P<name>[^(]+?) \((?P<how>[^)]*)\) -->\n```\w*\n(?P<body>.*?)```", re.S
)
SNIPPETS = {m["name"]: m["body"] for m in BLOCK.finditer(DOC)}


def test_every_block_of_the_page_is_a_named_snippet():
    # (the config example inside a list item is indented, so not counted here)
    assert len(SNIPPETS) == DOC.count("<!-- snippet:") == len(re.findall(r"^```\w", DOC, re.M))


@pytest.fixture(scope="module")
def exporter(tmp_path_factory):
    """The page's serve snippet, in the background, on a free port."""
    tmp = tmp_path_factory.mktemp("otlp-interop")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HYPERTOOL_", "OTEL_"))}
    env.update(
        HYPERTOOL_PORT="0",  # the kernel's pick; the clients are told the port it bound
        HYPERTOOL_JOURNAL=str(tmp / "journal.sqlite"),
        PATH=str(Path(sys.executable).parent) + os.pathsep + env["PATH"],
    )
    log = open(tmp / "serve.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        ["bash", "-e", "-c", SNIPPETS["serve"]],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    port = wait_for(lambda: serving_port(tmp / "serve.log"), 30, "the serve snippet to bind")
    env["HYPERTOOL_PORT"] = str(port)
    wait_for(
        lambda: http_get(f"http://127.0.0.1:{port}/healthz", timeout=1)[0] == 200,
        timeout=30,
        what="the exporter started by the serve snippet",
    )
    fake = FakeOpenAI(prompt_tokens=350, completion_tokens=120)
    yield port, env, fake
    fake.stop()
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(20)
    log.close()


def run_app(exporter, integration: str) -> str:
    """The integration's environment snippet, then its app snippet, in one shell."""
    _, env, fake = exporter
    script = SNIPPETS[f"{integration} environment"] + '\nexec python -c "$APP"\n'
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        env={
            **env,
            "APP": SNIPPETS[f"{integration} app"],
            "OPENAI_BASE_URL": fake.url,  # the user's real key and the real API otherwise
            "OPENAI_API_KEY": "sk-local-fake",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def settled(port, persona, model, input_tokens):
    def check():
        values = scrape(port)
        got = sample(
            values,
            "hypertool_persona_tokens_used_total",
            persona=persona,
            chatmode=CHATMODES[persona],
            model=model,
            token_type="input",
        )
        return values if got == input_tokens else None

    return wait_for(check, timeout=30, what=f"{input_tokens} input tokens of {persona}")


CHATMODES = {
    "backend-engineer": "implement",
    "testing-specialist": "release-checks",
    "devops-engineer": "default",
}


def genai_price(model: str, provider: str, input_tokens: int, output_tokens: int) -> float:
    from genai_prices import Usage, calc_price

    usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
    return float(calc_price(usage, model_ref=model, provider_id=provider).total_price)


def test_openllmetry_instrumenting_the_openai_client(exporter):
    port, _, fake = exporter
    run_app(exporter, "openllmetry")
    assert fake.requests and fake.requests[-1]["model"] == "gpt-4o-mini"
    values = settled(port, "backend-engineer", "gpt-4o-mini", 350)
    labels = {"persona": "backend-engineer", "chatmode": "implement", "model": "gpt-4o-mini"}
    tokens = "hypertool_persona_tokens_used_total"
    assert sample(values, tokens, **labels, token_type="output") == 120
    cost = sample(values, "hypertool_persona_cost_usd_total", **labels)
    assert cost == pytest.approx(genai_price("gpt-4o-mini", "openai", 350, 120))
    remaining = "hypertool_persona_token_budget_remaining"
    assert sample(values, remaining, persona="backend-engineer") == 5000 - 470
    requests = "hypertool_llm_requests_total"
    assert sample(values, requests, persona="backend-engineer", model="gpt-4o-mini") == 1
    usage = {
        "gen_ai_operation_name": "chat",
        "gen_ai_provider_name": "openai",
        "gen_ai_request_model": "gpt-4o-mini",
        "persona": "backend-engineer",
    }
    assert (
        sample(values, "gen_ai_client_token_usage_sum", **usage, gen_ai_token_type="input") == 350
    )


def test_langfuse_sdk_at_the_langfuse_path(exporter):
    port, _, _ = exporter
    run_app(exporter, "langfuse")
    values = settled(port, "testing-specialist", "gpt-4o-mini", 900)
    labels = {"persona": "testing-specialist", "chatmode": "release-checks", "model": "gpt-4o-mini"}
    assert (
        sample(values, "hypertool_persona_tokens_used_total", **labels, token_type="output") == 300
    )
    cost = genai_price("gpt-4o-mini", "openai", 900, 300)
    assert sample(values, "hypertool_persona_cost_usd_total", **labels) == pytest.approx(cost)
    used = "hypertool_persona_cost_budget_used_usd"  # the example config's weekly $25 budget
    assert sample(values, used, persona="testing-specialist", period="weekly") == pytest.approx(
        cost
    )
    requests = "hypertool_llm_requests_total"
    assert sample(values, requests, persona="testing-specialist", model="gpt-4o-mini") == 1


def test_plain_opentelemetry_sdk(exporter):
    port, _, _ = exporter
    run_app(exporter, "opentelemetry")
    values = settled(port, "devops-engineer", "claude-sonnet-4", 1200)
    labels = {"persona": "devops-engineer", "chatmode": "default", "model": "claude-sonnet-4"}
    assert (
        sample(values, "hypertool_persona_tokens_used_total", **labels, token_type="output") == 400
    )
    cost = genai_price("claude-sonnet-4", "anthropic", 1200, 400)
    assert sample(values, "hypertool_persona_cost_usd_total", **labels) == pytest.approx(cost)
    remaining = "hypertool_persona_token_budget_remaining"  # the default monthly budget
    assert sample(values, remaining, persona="devops-engineer") == 100000 - 1600


def test_the_collector_fan_out_reaches_the_exporter(exporter):
    """No Collector runs here: the config is checked, then its leg to us is
    replayed as the Collector's otlphttp exporter sends it (gzip protobuf at
    endpoint + /v1/traces with the configured header)."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    port, _, _ = exporter
    config = yaml.safe_load(SNIPPETS["collector"])
    [pipeline] = config["service"]["pipelines"].values()
    assert pipeline["receivers"] == ["otlp"]
    assert set(pipeline["exporters"]) == {"otlphttp/langfuse", "otlphttp/hypertool"}
    langfuse = config["exporters"]["otlphttp/langfuse"]
    assert (langfuse["endpoint"] + "/v1/traces").endswith("/api/public/otel/v1/traces")
    ours = config["exporters"]["otlphttp/hypertool"]
    header = ours["headers"]["Authorization"].replace(
        "${env:HYPERTOOL_INGEST_TOKEN}", "replace-with-a-long-random-token"
    )
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id = bytes(range(1, 17)), bytes(range(1, 9))
    span.name = "chat"
    span.start_time_unix_nano = int((time.time() - 1) * 1e9)
    span.end_time_unix_nano = int(time.time() * 1e9)
    for key, value in (("gen_ai.request.model", "gpt-4"), ("user.id", "collector-app")):
        attribute = span.attributes.add()
        attribute.key, attribute.value.string_value = key, value
    attribute = span.attributes.add()
    attribute.key, attribute.value.int_value = "gen_ai.usage.input_tokens", 77
    url = ours["endpoint"].replace("hypertool-exporter:9464", f"127.0.0.1:{port}") + "/v1/traces"
    post = urllib.request.Request(
        url,
        data=gzip.compress(request.SerializeToString()),
        headers={
            "Content-Type": "application/x-protobuf",
            "Content-Encoding": "gzip",
            "Authorization": header,
        },
    )
    with urllib.request.urlopen(post, timeout=10) as answer:
        assert answer.status == 200
    wait_for(
        lambda: (
            sample(
                scrape(port),
                "hypertool_persona_tokens_used_total",
                persona="collector-app",
                chatmode="default",
                model="gpt-4",
                token_type="input",
            )
            == 77
        ),
        what="the Collector leg's span",
    )
