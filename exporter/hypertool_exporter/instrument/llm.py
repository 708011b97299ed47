"""``ObservableLLM`` and ``@observe_llm``: metrics and a GenAI span around any LLM call.

Wraps sync and async callables, and the sync or async streams they return.
Each call opens a span named ``chat {model}`` with the OpenTelemetry GenAI
attributes (``gen_ai.operation.name``, ``gen_ai.request.model``,
``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens``, ``error.type``)
and Langfuse's ``langfuse.observation.type=generation``, and records latency,
tokens, cost and errors through the collector, with the span's trace id as
the exemplar. Usage is read from the response, never estimated; a response
without usage is counted in ``hypertool_llm_usage_unknown_total``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from opentelemetry.trace import SpanKind, Status, StatusCode

from ..model.fields import EventError
from . import tracing
from .collector import PersonaMetricsCollector, get_persona_metrics_collector
from .usage import TokenUsage, extract_usage, response_model

log = logging.getLogger(__name__)

#: Longest prompt or completion text put on a span when capture is on.
MAX_CAPTURED_CHARS = 8192


def _is_stream(result: Any) -> bool:
    if isinstance(result, str | bytes | dict | list | tuple):
        return False
    return inspect.isgenerator(result) or (
        hasattr(result, "__next__") and hasattr(result, "__iter__")
    )


def _is_async_stream(result: Any) -> bool:
    return hasattr(result, "__anext__") and hasattr(result, "__aiter__")


class _Call:
    """One observed call: its span, its timing and what it reported."""

    def __init__(self, owner: ObservableLLM, args: tuple, kwargs: dict):
        self.owner = owner
        self.persona = owner.persona or tracing.current_persona.get() or "unknown"
        self.chatmode = owner.chatmode or tracing.current_chatmode.get() or "default"
        self.usage = TokenUsage()
        self.response_model: str | None = None
        self.completion: list[str] = []
        attributes = {
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": owner.model,
            "langfuse.observation.type": "generation",
            **tracing.identity_attributes(self.persona, self.chatmode),
        }
        if owner.system:
            attributes["gen_ai.system"] = owner.system
        if tracing.capture_content():
            prompt = kwargs.get("messages", kwargs.get("prompt", args[0] if args else None))
            if prompt is not None:
                attributes["gen_ai.prompt"] = str(prompt)[:MAX_CAPTURED_CHARS]
        self.span_cm = tracing.get_tracer().start_as_current_span(
            f"chat {owner.model}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
            end_on_exit=False,
        )
        self.persona_token = tracing.current_persona.set(self.persona)
        self.chatmode_token = tracing.current_chatmode.set(self.chatmode)
        self.span = self.span_cm.__enter__()
        self.started = time.perf_counter()

    def detach(self) -> None:
        """Leave the span's context (the span itself ends in ``finish``)."""
        if self.span_cm is not None:
            self.span_cm.__exit__(None, None, None)
            self.span_cm = None
            tracing.current_persona.reset(self.persona_token)
            tracing.current_chatmode.reset(self.chatmode_token)

    def observe(self, response: Any) -> None:
        self.usage.merge(extract_usage(response))
        self.response_model = response_model(response) or self.response_model
        if tracing.capture_content() and response is not None:
            self.completion.append(str(response))

    def complete(self, result: Any, *, async_streams: bool) -> Any:
        """Hand back the call's result: a stream is wrapped and the call finishes
        when it is exhausted; anything else finishes the call now."""
        if async_streams and _is_async_stream(result):
            self.detach()
            return _observed_async_stream(result, self)
        if _is_stream(result):
            self.detach()
            return _observed_stream(result, self)
        self.observe(result)
        self.finish()
        return result

    def finish(self, error: BaseException | None = None) -> None:
        duration = time.perf_counter() - self.started
        span = self.span
        error_type = None
        if error is not None:
            error_type = type(error).__qualname__
            span.set_attribute("error.type", error_type)
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, str(error)[:200]))
        usage = self.usage
        for attribute, value in (
            ("gen_ai.usage.input_tokens", usage.input_tokens),
            ("gen_ai.usage.output_tokens", usage.output_tokens),
            ("gen_ai.usage.cache_read.input_tokens", usage.cache_read_tokens or None),
            ("gen_ai.usage.cache_creation.input_tokens", usage.cache_write_tokens or None),
            ("gen_ai.usage.reasoning.output_tokens", usage.reasoning_tokens or None),
        ):
            if value is not None:
                span.set_attribute(attribute, value)
        if self.response_model:
            span.set_attribute("gen_ai.response.model", self.response_model)
        if self.completion:
            span.set_attribute("gen_ai.completion", "".join(self.completion)[:MAX_CAPTURED_CHARS])
        trace_id = tracing.trace_id_of(span)
        span.end()
        self.detach()
        known = self.usage.known
        try:
            self.owner.collector.record_llm_call(
                self.persona,
                self.owner.model,
                duration,
                error_type=error_type,
                input_tokens=self.usage.input_tokens if known else None,
                output_tokens=self.usage.output_tokens if known else None,
                chatmode=self.chatmode,
                trace_id=trace_id,
                usage_unknown=error is None and not known,
                cache_read_tokens=usage.cache_read_tokens,
                cache_write_tokens=usage.cache_write_tokens,
                reasoning_tokens=usage.reasoning_tokens,
                cost_usd=usage.cost_usd,
            )
        except EventError as exc:  # never break the caller over its metrics
            log.warning("LLM call not recorded: %s", exc)


class ObservableLLM:
    """Wraps an LLM callable (sync or async) so every call is measured and traced.

    ``persona`` and ``chatmode`` default to those of the enclosing
    ``WorkflowTracer`` stage. ``collector`` defaults to the process-wide one.
    """

    def __new__(cls, llm_function: Callable, *args: Any, **kwargs: Any):
        if cls is ObservableLLM and inspect.iscoroutinefunction(llm_function):
            cls = AsyncObservableLLM
        return super().__new__(cls)

    def __init__(
        self,
        llm_function: Callable,
        model: str,
        persona: str | None = None,
        chatmode: str | None = None,
        *,
        system: str | None = None,
        collector: PersonaMetricsCollector | None = None,
    ):

        self.llm_function = llm_function
        self.model = model
        self.persona = persona
        self.chatmode = chatmode
        self.system = system
        self.collector = collector or get_persona_metrics_collector()
        functools.update_wrapper(self, llm_function)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = _Call(self, args, kwargs)
        try:
            result = self.llm_function(*args, **kwargs)
        except BaseException as exc:
            call.finish(exc)
            raise
        return call.complete(result, async_streams=False)


class AsyncObservableLLM(ObservableLLM):
    """``ObservableLLM`` for coroutine functions; returns a coroutine."""

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = _Call(self, args, kwargs)
        try:
            result = await self.llm_function(*args, **kwargs)
        except BaseException as exc:
            call.finish(exc)
            raise
        return call.complete(result, async_streams=True)


def _observed_stream(stream: Iterator, call: _Call) -> Iterator:
    error: BaseException | None = None
    try:
        for chunk in stream:
            call.observe(chunk)
            yield chunk
    except BaseException as exc:
        error = exc if not isinstance(exc, GeneratorExit) else None
        raise
    finally:
        call.finish(error)


async def _observed_async_stream(stream: AsyncIterator, call: _Call) -> AsyncIterator:
    error: BaseException | None = None
    try:
        async for chunk in stream:
            call.observe(chunk)
            yield chunk
    except BaseException as exc:
        error = exc if not isinstance(exc, GeneratorExit) else None
        raise
    finally:
        call.finish(error)


def observe_llm(
    model: str,
    persona: str | None = None,
    chatmode: str | None = None,
    *,
    system: str | None = None,
    collector: PersonaMetricsCollector | None = None,
) -> Callable[[Callable], ObservableLLM]:
    """Decorator form of ``ObservableLLM``."""

    def wrap(function: Callable) -> ObservableLLM:
        return ObservableLLM(function, model, persona, chatmode, system=system, collector=collector)

    return wrap


__all__ = ["AsyncObservableLLM", "ObservableLLM", "observe_llm"]
