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
from collections.abc import Callable
from typing import Any

from ..model.budget_check import BudgetExceeded
from ..model.fields import money_value
from ..model.pricing import Price
from .call import LLMCall, persona_of
from .collector import PersonaMetricsCollector, get_persona_metrics_collector
from .usage import (
    response_text,
)

log = logging.getLogger(__name__)

#: Keywords a call gives the wrapper, never the wrapped function.
WRAPPER_KEYWORDS = ("persona", "chatmode", "metadata", "trace", "conversation_id")
#: What ``generate`` passes on to a function whose signature names it.
GENERATE_OPTIONS = ("system_message", "temperature", "max_tokens")


class ObservableLLM:
    """Wraps an LLM callable (sync or async) so every call is measured and traced.

    ``persona`` and ``chatmode`` default to those of the enclosing
    ``WorkflowTracer`` stage, and a call may name its own. ``model`` is the
    model label; without one, the model the response names (else
    ``unknown``). ``collector`` defaults to the process-wide one. ``client``:
    an OpenAI-style client ``generate`` calls when there is no function.
    ``cost_per_1k_tokens`` prices ``model`` in this process (input and output
    alike), as a ``pricing:`` entry would. ``enforce_budget=True`` checks the
    persona's budget before each call and raises ``BudgetExceeded`` instead of
    calling when a limit is reached (``collector.check_budget``). ``langfuse``
    is accepted for the guide's form; spans go where tracing is configured.
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
        enforce_budget: bool = False,
        langfuse: Any = None,
    ):
        self.llm_function = llm_function
        self.enforce_budget = enforce_budget
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

    def _enforce(self, options: dict[Any, Any]) -> None:
        """Raise ``BudgetExceeded`` when ``enforce_budget`` is on and the call's
        persona has nothing left (the LLM is not called)."""
        if self.enforce_budget:
            answer = self.collector.check_budget(persona_of(self, options))
            if not answer.allowed:
                raise BudgetExceeded(answer)

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
        self._enforce(options)
        call = LLMCall(self, args, kwargs, options)
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
        self._enforce(options)
        call = LLMCall(self, args, kwargs, options)
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
        return {
            "response": response_text(result),
            "tokens_used": (usage.input_tokens or 0) + (usage.output_tokens or 0)
            if usage.known
            else None,
            "cost_usd": call.cost_usd,
            "latency_ms": call.duration * 1000.0,
        }


class AsyncObservableLLM(ObservableLLM):
    """``ObservableLLM`` for coroutine functions; returns a coroutine."""

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        options = {key: kwargs.pop(key) for key in WRAPPER_KEYWORDS if key in kwargs}
        function = self._function()
        self._enforce(options)
        call = LLMCall(self, args, kwargs, options)
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
    enforce_budget: bool = False,
) -> Callable[[Callable[..., Any]], ObservableLLM]:
    """Decorator form of ``ObservableLLM``."""

    def wrap(function: Callable[..., Any]) -> ObservableLLM:
        return ObservableLLM(
            function,
            model,
            persona,
            chatmode,
            system=system,
            collector=collector,
            enforce_budget=enforce_budget,
        )

    return wrap


__all__ = ["AsyncObservableLLM", "ObservableLLM", "observe_llm", "persona_of"]
