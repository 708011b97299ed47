"""``ObservableLLM`` and ``@observe_llm``: metrics and a GenAI span around any LLM call.

Wraps sync and async callables, and the sync or async streams they return.
Each call opens a span named ``chat {model}`` with the OpenTelemetry GenAI
attributes (``gen_ai.operation.name``, ``gen_ai.request.model``,
``gen_ai.usage.input_tokens``, ``gen_ai.usage.output_tokens``, ``error.type``)
and Langfuse's ``langfuse.observation.type=generation``, and records latency,
tokens, cost and errors through the collector, with the span's trace id as
the exemplar. Usage is read from the response, never estimated; a response
without usage is counted in ``hypertool_llm_usage_unknown_total``.

Both forms of the Hypertool documents work: ``await wrapped(prompt,
persona=..., chatmode=..., metadata=..., trace=...)`` (those four keywords
belong to the wrapper and never reach the wrapped function) and the plan's
``await llm.generate(prompt=..., system_message=...)``, which calls a function
or an OpenAI-style ``client`` and returns ``{"response", "tokens_used",
"cost_usd", "latency_ms"}``.
"""

from __future__ import annotations

import functools
import inspect
import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from opentelemetry.trace import Span, SpanKind, Status, StatusCode, set_span_in_context
from opentelemetry.util.types import AttributeValue

from ..model.fields import EventError, money_value
from ..model.pricing import Price
from . import tracing
from .collector import PersonaMetricsCollector, get_persona_metrics_collector
from .streams import is_async_stream, is_stream, observed_async_stream, observed_stream
from .usage import (
    TokenUsage,
    extract_usage,
    response_model,
    response_provider,
    response_text,
)

log = logging.getLogger(__name__)

#: Keywords a call gives the wrapper, never the wrapped function.
WRAPPER_KEYWORDS = ("persona", "chatmode", "metadata", "trace")
#: What ``generate`` passes on to a function whose signature names it.
GENERATE_OPTIONS = ("system_message", "temperature", "max_tokens")


class _Call:
    """One observed call: its span, its timing and what it reported."""

    def __init__(
        self,
        owner: ObservableLLM,
        args: tuple[Any, ...],
        kwargs: dict[Any, Any],
        options: dict[Any, Any],
    ):
        self.owner = owner
        self.persona = (
            options.get("persona") or owner.persona or tracing.current_persona.get() or "unknown"
        )
        self.chatmode = (
            options.get("chatmode") or owner.chatmode or tracing.current_chatmode.get() or "default"
        )
        self.usage = TokenUsage()
        self.response_model: str | None = None
        #: gen_ai.provider.name: ``system=``, else read off the response's client library.
        self.provider: str | None = owner.system
        self.streaming = False
        self.first_chunk: float | None = None
        self.completion: list[str] = []
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "chat",
            "langfuse.observation.type": "generation",
            **tracing.identity_attributes(self.persona, self.chatmode),
            **tracing.metadata_attributes("langfuse.observation.metadata", options.get("metadata")),
        }
        if owner.model:
            attributes["gen_ai.request.model"] = owner.model
        if owner.system:
            attributes["gen_ai.system"] = owner.system
        if tracing.capture_content():
            prompt = kwargs.get("messages", kwargs.get("prompt", args[0] if args else None))
            if prompt is not None:
                attributes["gen_ai.prompt"] = tracing.captured_text(prompt)
        # ``trace=``: a facade trace or span (anything with ``.span``) or a span.
        parent = options.get("trace")
        parent = getattr(parent, "span", parent)
        self.span_cm: AbstractContextManager[Span] | None = (
            tracing.get_tracer().start_as_current_span(
                f"chat {owner.model}" if owner.model else "chat",
                context=set_span_in_context(parent) if parent is not None else None,
                kind=SpanKind.CLIENT,
                attributes=attributes,
                end_on_exit=False,
            )
        )
        self.persona_token = tracing.current_persona.set(self.persona)
        self.chatmode_token = tracing.current_chatmode.set(self.chatmode)
        self.span = self.span_cm.__enter__()
        self.started = time.perf_counter()

    @property
    def model(self) -> str:
        """The model label: the one configured, else the one that answered."""
        return self.owner.model or self.response_model or "unknown"

    def detach(self) -> None:
        """Leave the span's context (the span itself ends in ``finish``)."""
        if self.span_cm is not None:
            self.span_cm.__exit__(None, None, None)
            self.span_cm = None
            tracing.current_persona.reset(self.persona_token)
            tracing.current_chatmode.reset(self.chatmode_token)

    def observe(self, response: Any) -> None:
        if self.first_chunk is None and self.streaming:
            self.first_chunk = time.perf_counter()
        if self.provider is None:
            self.provider = response_provider(response)
        self.usage.merge(extract_usage(response))
        self.response_model = response_model(response) or self.response_model
        if tracing.capture_content():
            text = response_text(response)
            if text:
                self.completion.append(text)

    def complete(self, result: Any, *, async_streams: bool) -> Any:
        """Hand back the call's result: a stream is wrapped and the call finishes
        when it is exhausted; anything else finishes the call now."""
        if async_streams and is_async_stream(result):
            self.detach()
            self.streaming = True
            return observed_async_stream(result, self)
        if is_stream(result):
            self.detach()
            self.streaming = True
            return observed_stream(result, self)
        self.observe(result)
        self.finish()
        return result

    def finish(self, error: BaseException | None = None) -> None:
        self.duration = duration = time.perf_counter() - self.started
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
            span.set_attribute("gen_ai.completion", tracing.captured_text("".join(self.completion)))
        trace_id = tracing.trace_id_of(span)
        span.end()
        self.detach()
        known = self.usage.known
        model = self.model
        try:
            self.owner.collector.record_llm_call(
                self.persona,
                model,
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
                ttft_seconds=None if self.first_chunk is None else self.first_chunk - self.started,
                provider=self.provider,
            )
        except EventError as exc:  # never break the caller over its metrics
            log.warning("LLM call not recorded: %s", exc)


class ObservableLLM:
    """Wraps an LLM callable (sync or async) so every call is measured and traced.

    ``persona`` and ``chatmode`` default to those of the enclosing
    ``WorkflowTracer`` stage, and a call may name its own. ``model`` is the
    model label; without one, the model the response names (else
    ``unknown``). ``collector`` defaults to the process-wide one. ``client``:
    an OpenAI-style client ``generate`` calls when there is no function.
    ``cost_per_1k_tokens`` prices ``model`` in this process (input and output
    alike), as a ``pricing:`` entry would. ``langfuse`` is accepted for the
    guide's form; spans go where tracing is configured.
    """

    def __new__(
        cls, llm_function: Callable[..., Any] | None = None, *args: Any, **kwargs: Any
    ) -> ObservableLLM:
        if cls is ObservableLLM and inspect.iscoroutinefunction(llm_function):
            cls = AsyncObservableLLM
        return super().__new__(cls)

    def __init__(
        self,
        llm_function: Callable[..., Any] | None = None,
        model: str | None = None,
        persona: str | None = None,
        chatmode: str | None = None,
        *,
        system: str | None = None,
        collector: PersonaMetricsCollector | None = None,
        client: Any = None,
        cost_per_1k_tokens: float | None = None,
        langfuse: Any = None,
    ):
        self.llm_function = llm_function
        self.model = model
        self.persona = persona
        self.chatmode = chatmode
        self.system = system
        self.client = client
        self.langfuse = langfuse
        self.collector = collector or get_persona_metrics_collector()
        if cost_per_1k_tokens is not None:
            if not model:
                raise TypeError("cost_per_1k_tokens= prices a model: give model= too")
            rate = float(money_value("cost_per_1k_tokens", cost_per_1k_tokens) or 0.0)
            self.collector.state.set_price(model, Price(input=rate, output=rate))
        if llm_function is not None:
            functools.update_wrapper(self, llm_function)

    def _function(self) -> Callable[..., Any]:
        if self.llm_function is None:
            raise TypeError(
                "ObservableLLM has nothing to call: pass llm_function= (a function "
                "taking the prompt) or client= (an OpenAI-style client) to generate()"
            )
        return self.llm_function

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        options = {key: kwargs.pop(key) for key in WRAPPER_KEYWORDS if key in kwargs}
        function = self._function()
        call = _Call(self, args, kwargs, options)
        try:
            result = function(*args, **kwargs)
        except BaseException as exc:
            call.finish(exc)
            raise
        return call.complete(result, async_streams=False)

    async def generate(
        self,
        prompt: str,
        system_message: str | None = None,
        temperature: float = 0.7,
        max_tokens: int = 2000,
        metadata: dict[str, Any] | None = None,
        *,
        persona: str | None = None,
        chatmode: str | None = None,
        trace: Any = None,
    ) -> dict[str, Any]:
        """The plan's form: one prompt in, ``{"response", "tokens_used",
        "cost_usd", "latency_ms"}`` out.

        Calls ``client.chat.completions.create`` (model, messages, temperature,
        max_tokens) when a client was given, else the function with the prompt
        and whichever of ``system_message``, ``temperature`` and ``max_tokens``
        its signature names. ``tokens_used`` is input + output as reported
        (``None`` when the response reported none: nothing is estimated);
        ``cost_usd`` the provider's cost, else the priced estimate, else ``None``.
        """
        options = {"persona": persona, "chatmode": chatmode, "metadata": metadata, "trace": trace}
        if self.client is not None:
            messages = [{"role": "user", "content": prompt}]
            if system_message:
                messages.insert(0, {"role": "system", "content": system_message})
            target = self.client.chat.completions.create
            args: tuple[Any, ...] = ()
            kwargs = {
                "model": self.model,
                "messages": messages,
                "temperature": temperature,
                "max_tokens": max_tokens,
            }
        else:
            target = self._function()
            given = dict(
                zip(GENERATE_OPTIONS, (system_message, temperature, max_tokens), strict=True)
            )
            args = (prompt,)
            kwargs = {k: v for k, v in given.items() if k in _parameters(target)}
        call = _Call(self, args, kwargs, options)
        try:
            result = target(*args, **kwargs)
            if inspect.isawaitable(result):
                result = await result
        except BaseException as exc:
            call.finish(exc)
            raise
        call.observe(result)
        call.finish()
        usage = call.usage
        cost = usage.cost_usd
        if cost is None and usage.known:
            cost = self.collector.state.prices.cost(
                call.model,
                time.time(),
                usage.input_tokens or 0,
                usage.output_tokens or 0,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
            )
        return {
            "response": response_text(result),
            "tokens_used": (usage.input_tokens or 0) + (usage.output_tokens or 0)
            if usage.known
            else None,
            "cost_usd": cost,
            "latency_ms": call.duration * 1000.0,
        }


class AsyncObservableLLM(ObservableLLM):
    """``ObservableLLM`` for coroutine functions; returns a coroutine."""

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        options = {key: kwargs.pop(key) for key in WRAPPER_KEYWORDS if key in kwargs}
        function = self._function()
        call = _Call(self, args, kwargs, options)
        try:
            result = await function(*args, **kwargs)
        except BaseException as exc:
            call.finish(exc)
            raise
        return call.complete(result, async_streams=True)


def _parameters(function: Callable[..., Any]) -> set[str]:
    """The keyword names ``function`` accepts (all of ``GENERATE_OPTIONS`` when it
    takes ``**kwargs``; none when its signature cannot be read)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return set()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return set(GENERATE_OPTIONS)
    return {p.name for p in parameters}


def observe_llm(
    model: str | None = None,
    persona: str | None = None,
    chatmode: str | None = None,
    *,
    system: str | None = None,
    collector: PersonaMetricsCollector | None = None,
) -> Callable[[Callable[..., Any]], ObservableLLM]:
    """Decorator form of ``ObservableLLM``."""

    def wrap(function: Callable[..., Any]) -> ObservableLLM:
        return ObservableLLM(function, model, persona, chatmode, system=system, collector=collector)

    return wrap


__all__ = ["AsyncObservableLLM", "ObservableLLM", "observe_llm"]
