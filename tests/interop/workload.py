"""What each instrumented app does after its setup snippet: two plain and two
streamed calls, through the client the library instruments, to the local
fake servers (``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``). Run with the
library's own environment's Python: ``python -c "<setup>; import workload;
workload.run('<kind>')"``. Imports are inside each kind: an environment holds
only its library's clients.
"""

from __future__ import annotations

import os
import sys

PROMPT = [{"role": "user", "content": "Bump the version to 1.2.0"}]
OPENAI_MODEL = "gpt-4o-mini"
ANTHROPIC_MODEL = "claude-sonnet-4-5"


def openai_calls() -> None:
    from openai import OpenAI

    client = OpenAI()
    for _ in range(2):
        client.chat.completions.create(model=OPENAI_MODEL, messages=PROMPT)
    for _ in range(2):
        stream = client.chat.completions.create(
            model=OPENAI_MODEL,
            messages=PROMPT,
            stream=True,
            stream_options={"include_usage": True},
        )
        for _chunk in stream:
            pass


def anthropic_calls() -> None:
    from anthropic import Anthropic

    client = Anthropic()
    for _ in range(2):
        client.messages.create(model=ANTHROPIC_MODEL, max_tokens=200, messages=PROMPT)
    for _ in range(2):
        with client.messages.stream(
            model=ANTHROPIC_MODEL, max_tokens=200, messages=PROMPT
        ) as stream:
            for _text in stream.text_stream:
                pass


def litellm_calls() -> None:
    import litellm

    where = {"api_base": os.environ["OPENAI_BASE_URL"], "api_key": os.environ["OPENAI_API_KEY"]}
    for _ in range(2):
        litellm.completion(model=f"openai/{OPENAI_MODEL}", messages=PROMPT, **where)
    for _ in range(2):
        stream = litellm.completion(
            model=f"openai/{OPENAI_MODEL}",
            messages=PROMPT,
            stream=True,
            stream_options={"include_usage": True},
            **where,
        )
        for _chunk in stream:
            pass


def pydantic_ai_calls() -> None:
    import asyncio

    from pydantic_ai import Agent
    from pydantic_ai.models.openai import OpenAIChatModel

    agent = Agent(OpenAIChatModel(OPENAI_MODEL), name="backend-engineer")
    for _ in range(2):
        agent.run_sync("Bump the version to 1.2.0")

    async def streamed() -> None:
        async with agent.run_stream("Bump the version to 1.2.0") as result:
            await result.get_output()

    for _ in range(2):
        asyncio.run(streamed())


def langfuse_observed_call() -> None:
    """A generation the app prices by hand around an auto-instrumented call."""
    from langfuse import get_client, observe
    from openai import OpenAI

    @observe(as_type="generation", name="priced-by-hand")
    def priced() -> None:
        get_client().update_current_generation(model=OPENAI_MODEL, cost_details={"total": 0.25})
        OpenAI().chat.completions.create(model=OPENAI_MODEL, messages=PROMPT)

    priced()


KINDS = {
    "openai": openai_calls,
    "anthropic": anthropic_calls,
    "litellm": litellm_calls,
    "pydantic-ai": pydantic_ai_calls,
    "langfuse-observed": langfuse_observed_call,
}


def run(*kinds: str) -> None:
    """Make the calls, then flush whatever tracer provider the library set."""
    for kind in kinds:
        KINDS[kind]()
    flush()


def flush() -> None:
    from opentelemetry import trace

    if "litellm" in sys.modules:  # its callbacks run on a pool: let them finish
        from litellm.litellm_core_utils.thread_pool_executor import executor

        executor.shutdown(wait=True)
    provider = trace.get_tracer_provider()
    force_flush = getattr(provider, "force_flush", None)
    if force_flush is not None:
        force_flush()
    for name in ("langfuse", "logfire"):
        module = sys.modules.get(name)
        if module is None:
            continue
        if name == "langfuse":
            module.get_client().flush()
        else:
            module.force_flush()
