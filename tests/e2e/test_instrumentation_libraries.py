"""Every instrumentation library people use, installed for real and pinned,
tracing real client code against local fake OpenAI and Anthropic servers,
exported over OTLP to a live exporter: each call counted once, with every
token type the library reports, our price (never a library's zero or
estimate), and the persona.

docs/otlp.md's "Every library, one by one" sections are run as written: a
library's environment snippet, then its setup snippet followed by the calls
of ``tests/interop/workload.py`` (two plain and two streamed, the usage
holding cache and reasoning tokens), in the library's own environment
(``make interop`` builds them from ``tests/interop/envs/``; the development
environment holds OpenLLMetry, the anthropic SDK and Langfuse). Each library
gets a fresh exporter: the counts are its alone.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from harness.fake_openai import FakeAnthropic, FakeOpenAI
from harness.support import REPO, exporter_with_config, scrape, total, wait_for

DOC = (REPO / "docs" / "otlp.md").read_text()
BLOCK = re.compile(
    r"<!-- snippet: (?P<name>[^(]+?) \((?P<how>[^)]*)\) -->\n```\w*\n(?P<body>.*?)```", re.S
)
SNIPPETS = {m["name"]: m["body"] for m in BLOCK.finditer(DOC)}
TOKEN = "replace-with-a-long-random-token"
PERSONA = "backend-engineer"
OPENAI, ANTHROPIC = "gpt-4o-mini", "claude-sonnet-4-5"
#: USD per 1K tokens: ours, so that a library's own price would show.
PRICES = {
    OPENAI: {"input": 0.001, "output": 0.002, "cache_read": 0.0005},
    ANTHROPIC: {"input": 0.003, "output": 0.015, "cache_read": 0.0003, "cache_write": 0.00375},
}
CONFIG = "pricing:\n" + "".join(
    f"  {model}: {{{', '.join(f'{k}: {v}' for k, v in price.items())}}}\n"
    for model, price in PRICES.items()
)
#: What the fakes answer each call with, as the exporter's token types
#: count them (disjoint: input without the cache, output without reasoning).
OPENAI_CALL = {"input": 250, "cache_read": 100, "output": 90, "reasoning": 30}
ANTHROPIC_CALL = {"input": 300, "cache_read": 200, "cache_write": 50, "output": 90}


def merged(call: dict[str, int], *, without: tuple[str, ...] = ()) -> dict[str, int]:
    """A call's token types as a library that does not report ``without`` shows
    them: those tokens stay inside input (cache) or output (reasoning)."""
    out = dict(call)
    for kind in without:
        count = out.pop(kind, 0)
        out["output" if kind == "reasoning" else "input"] += count
    return out


@dataclass
class Case:
    """One library's run: the workload kinds, and per model the calls and one
    call's tokens by type (a list when its calls differ: plain and streamed);
    ``reported``: a cost the app reported by hand; ``section``: the docs
    section whose snippets set it up, when another library's."""

    env: str
    kinds: tuple[str, ...]
    calls: dict[str, tuple[int, dict[str, int]] | list[tuple[int, dict[str, int]]]]
    reported: float = 0.0
    section: str = ""
    persona: str = PERSONA

    def by_model(self) -> dict[str, list[tuple[int, dict[str, int]]]]:
        return {m: c if isinstance(c, list) else [c] for m, c in self.calls.items()}


CASES = {
    "openllmetry-openai": Case(
        "dev",
        ("openai",),
        # OpenLLMetry reports no reasoning tokens for a stream: they stay in its output
        {OPENAI: [(2, OPENAI_CALL), (2, merged(OPENAI_CALL, without=("reasoning",)))]},
        section="openllmetry-anthropic",
    ),
    "openllmetry-anthropic": Case("dev", ("anthropic",), {ANTHROPIC: (4, ANTHROPIC_CALL)}),
    "anthropic-sdk": Case("dev", ("anthropic",), {ANTHROPIC: (4, ANTHROPIC_CALL)}),
    "openlit": Case(
        "openlit",
        ("openai", "anthropic"),
        {
            # OpenLIT reports no reasoning tokens: they stay in the output
            OPENAI: (4, merged(OPENAI_CALL, without=("reasoning",))),
            ANTHROPIC: (4, ANTHROPIC_CALL),
        },
    ),
    "litellm": Case("litellm", ("litellm",), {OPENAI: (4, OPENAI_CALL)}),
    "logfire": Case("logfire", ("openai",), {OPENAI: (4, OPENAI_CALL)}),
    "pydantic-ai": Case("logfire", ("pydantic-ai",), {OPENAI: (4, OPENAI_CALL)}),
    "openinference": Case("openai-instrumentations", ("openai",), {OPENAI: (4, OPENAI_CALL)}),
    "openai-v2": Case(
        "openai-instrumentations",
        ("openai",),
        # input and output only: the cache and reasoning stay inside them
        {OPENAI: (4, merged(OPENAI_CALL, without=("cache_read", "reasoning")))},
    ),
    "langfuse-openai": Case(
        "dev",
        ("openai", "langfuse-observed"),
        {OPENAI: (5, OPENAI_CALL)},
        reported=0.25,  # the fifth call's cost, reported by hand on its outer generation
    ),
}


def python_of(env: str) -> Path:
    if env == "dev":
        return Path(sys.executable)
    path = REPO / ".venv-interop" / env / "bin" / "python"
    assert path.exists(), f"{path} is missing: run `make interop`"
    return path


def price_of(model: str, tokens: dict[str, int]) -> float:
    price = PRICES[model]
    return (
        sum(
            count
            * price.get(kind if kind in price else "output" if kind == "reasoning" else "input")
            for kind, count in tokens.items()
        )
        / 1000
    )


@pytest.fixture(scope="module")
def fakes():
    openai = FakeOpenAI(350, 120, cached_tokens=100, reasoning_tokens=30)
    anthropic = FakeAnthropic(300, 90, cache_read_tokens=200, cache_write_tokens=50)
    yield openai, anthropic
    openai.stop()
    anthropic.stop()


@pytest.fixture
def exporter(tmp_path):
    proc = exporter_with_config(
        tmp_path,
        CONFIG,
        HYPERTOOL_INGEST_TOKEN=TOKEN,
        HYPERTOOL_LANGFUSE_PUBLIC_KEY="pk-lf-hypertool-local",
        HYPERTOOL_LANGFUSE_SECRET_KEY="sk-lf-hypertool-local-secret",
    )
    yield proc
    proc.stop()


def run_library(library: str, case: Case, port: int, fakes) -> None:
    """The library's environment snippet, then its setup snippet and the calls."""
    openai, anthropic = fakes
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACELOOP_"))}
    kinds = ", ".join(repr(kind) for kind in case.kinds)
    section = case.section or library
    app = f"{SNIPPETS[f'{section} setup']}\nimport workload\nworkload.run({kinds})\n"
    script = SNIPPETS[f"{section} environment"] + '\nexec "$APP_PYTHON" -c "$APP"\n'
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        env={
            **env,
            "HYPERTOOL_PORT": str(port),
            "APP": app,
            "APP_PYTHON": str(python_of(case.env)),
            "PYTHONPATH": str(REPO / "tests" / "interop"),
            "OPENAI_BASE_URL": openai.url,  # the user's real key and the real APIs otherwise
            "OPENAI_API_KEY": "sk-local-fake",
            "ANTHROPIC_BASE_URL": anthropic.url,
            "ANTHROPIC_API_KEY": "sk-ant-local-fake",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of its price list
            "LOGFIRE_SEND_TO_LOGFIRE": "false",
        },
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-4000:]


def test_every_library_section_has_its_two_snippets_and_a_case():
    sections = {name.rsplit(" ", 1)[0] for name in SNIPPETS if name.endswith(" setup")}
    assert sections == {case.section or library for library, case in CASES.items()}
    assert all(f"{section} environment" in SNIPPETS for section in sections)


@pytest.mark.parametrize("library", list(CASES))
def test_a_library_counts_every_call_once_exactly(library, exporter, fakes):
    case = CASES[library]
    run_library(library, case, exporter.port, fakes)
    models = case.by_model()
    expected_calls = sum(calls for runs in models.values() for calls, _ in runs)

    def settled():
        values = scrape(exporter.port)
        got = total(values, "hypertool_llm_requests_total", persona=case.persona)
        return values if got >= expected_calls else None

    values = wait_for(settled, 60, f"{expected_calls} calls of {library}")
    cost = case.reported
    for model, runs in models.items():
        labels = {"persona": case.persona, "model": model}
        calls = sum(n for n, _ in runs)
        assert total(values, "hypertool_llm_requests_total", **labels) == calls, model
        counted = {
            kind: total(values, "hypertool_persona_tokens_used_total", **labels, token_type=kind)
            for kind in ("input", "output", "cache_read", "cache_write", "reasoning")
        }
        want: dict[str, int] = {}
        for n, tokens in runs:
            for kind, count in tokens.items():
                want[kind] = want.get(kind, 0) + n * count
            cost += n * price_of(model, tokens)
        assert {k: v for k, v in counted.items() if v} == want, model
        if case.reported:  # the hand-priced call: its reported cost, not ours
            cost -= price_of(model, runs[-1][1])
        assert not total(values, "hypertool_llm_usage_unknown_total", **labels)
    assert total(values, "hypertool_llm_requests_total") == expected_calls  # no other persona
    spent = total(values, "hypertool_persona_cost_usd_total", persona=case.persona)
    assert spent == pytest.approx(cost, rel=1e-9)
    # never a library's estimate or zero: only what the app reported by hand
    reported = total(values, "hypertool_persona_reported_cost_usd_total")
    assert reported == pytest.approx(case.reported)
    assert total(values, "hypertool_exporter_events_rejected_total") == 0  # no span refused
