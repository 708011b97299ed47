"""The Langfuse guide's test workflow: a three-stage package release, offline.

    python -m hypertool_exporter.examples.instrumented_workflow [--version 1.2.0]

Three personas (backend-engineer, testing-specialist, devops-engineer) each
run one stage of a ``WorkflowTracer`` through an ``ObservableLLM`` that wraps
a fake, OpenAI-shaped LLM, so every figure is real bookkeeping: tokens and
budget remaining come from the collector, not from the script. Budgets come
from ``HYPERTOOL_CONFIG`` when set, else the defaults below. Spans go where
the environment says (``LANGFUSE_*``, ``OTEL_EXPORTER_OTLP_*``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CollectorRegistry

from ..instrument.collector import PersonaMetricsCollector
from ..instrument.langfuse_api import get_langfuse_integration
from ..instrument.llm import ObservableLLM
from ..instrument.workflow import WorkflowTracer
from ..model.budgets import Budget
from ..model.config import Config, load_config

MODEL = "gpt-4o"
#: Daily token budgets used when ``HYPERTOOL_CONFIG`` is not set.
DEFAULT_BUDGETS = {
    "backend-engineer": Budget(period="daily", tokens=5000),
    "testing-specialist": Budget(period="daily", tokens=4000),
    "devops-engineer": Budget(period="daily", tokens=3000),
}
#: (title, stage, persona, prompt template, prompt tokens, completion tokens)
STAGES = (
    ("Version Bump", "version_bump", "backend-engineer",
     "Implement backend for: Update version to {version}", 250, 600),
    ("Quality Validation", "quality_validation", "testing-specialist",
     "Write tests for: Validate release {version}", 400, 800),
    ("Publish & Deploy", "publish_deploy", "devops-engineer",
     "Deploy: Publish package {version}", 150, 450),
)  # fmt: skip


def fake_llm(usage: dict[str, tuple[int, int]]) -> Callable[[str], Awaitable[dict[str, Any]]]:
    """An async LLM returning OpenAI-shaped responses, with the token counts
    ``usage`` holds for each prompt."""

    async def complete(prompt: str) -> dict[str, Any]:
        prompt_tokens, completion_tokens = usage[prompt]
        return {
            "model": MODEL,
            "choices": [{"message": {"content": f"Mock LLM response for: {prompt}"}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
        }

    return complete


async def release(version: str, collector: PersonaMetricsCollector) -> bool:
    """Run the three stages; returns whether every quality gate passed."""
    prompts = {template.format(version=version): (i, o) for *_, template, i, o in STAGES}
    llm = ObservableLLM(fake_llm(prompts), MODEL, collector=collector)
    print("🚀 Starting Package Release Workflow")
    print("=" * 60)
    passed = True
    async with WorkflowTracer("package_release", chatmode="package-release") as workflow:
        for number, (title, stage_name, persona, template, *_) in enumerate(STAGES, 1):
            prompt = template.format(version=version)
            print(f"\n📝 Stage {number}: {title}")
            print(f"   Persona: {persona}")
            with workflow.stage(stage_name, persona) as stage:
                result = await llm.generate(prompt=prompt, persona=persona)
                stage.passed = bool(result["response"])
            passed = passed and bool(stage.passed)
            print(f"   ✅ {result['response']}")
            print(f"   📊 Tokens: {result['tokens_used']}")
            if result["cost_usd"] is not None:
                print(f"   💵 Cost: ${result['cost_usd']:.4f}")
            standing = collector.budget_standing(persona)
            if standing is not None:
                print(f"   💰 Budget remaining: {standing.left:.0f}")
    print("\n✅ Package Release Workflow Complete!" if passed else "\n❌ A quality gate failed")
    return passed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="1.2.0", help="the version to release")
    args = parser.parse_args(argv)
    path = os.environ.get("HYPERTOOL_CONFIG")
    config = load_config(path) if path else Config(budgets=dict(DEFAULT_BUDGETS))
    collector = PersonaMetricsCollector(CollectorRegistry(), config=config)
    langfuse = get_langfuse_integration()
    try:
        passed = asyncio.run(release(args.version, collector))
    finally:
        collector.close()
    if langfuse.enabled:
        langfuse.flush(timeout_millis=3000)
        print("\n🔍 Langfuse tracing enabled!")
        print(f"   Host: {langfuse.host}")
        print("   Check Langfuse UI for LLM traces with persona context")
    else:
        print("\n⚠️  Langfuse not configured")
    return 0 if passed else 1


__all__ = ["DEFAULT_BUDGETS", "STAGES", "fake_llm", "main", "release"]


if __name__ == "__main__":
    raise SystemExit(main())
