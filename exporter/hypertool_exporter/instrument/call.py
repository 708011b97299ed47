"""One observed LLM call: its GenAI span, its timing and what it reported.

``ObservableLLM`` (``instrument.llm``) makes one per call; it reads usage,
model and text from the response (or a stream's chunks), and on ``finish``
ends the span and records the call through the collector.
"""

from __future__ import annotations

import logging
import time
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Protocol

from opentelemetry.trace import Span, SpanKind, Status, StatusCode, set_span_in_context
from opentelemetry.util.types import AttributeValue

from ..model.fields import EventError
from . import tracing
from .streams import is_async_stream, is_stream, observed_async_stream, observed_stream
from .usage import (
    TokenUsage,
    extract_usage,
    finish_reasons,
    response_id,
    response_model,
    response_provider,
    response_text,
)

if TYPE_CHECKING:
    from .collector import PersonaMetricsCollector

log = logging.getLogger(__name__)


class CallOwner(Protocol):
    """What a call reads of the wrapper that made it (``llm.ObservableLLM``)."""

    model: str | None
    persona: str | None
    chatmode: str | None
    system: str | None
    collector: PersonaMetricsCollector


class LLMCall:
    """One observed call: its span, its timing and what it reported."""

    def __init__(
        self,
        owner: CallOwner,
        args: tuple[Any, ...],
        kwargs: dict[Any, Any],
        options: dict[Any, Any],
    ):
        self.owner = owner
        self.persona = persona_of(owner, options)
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
        self.response_id: str | None = None
        self.finish_reasons: list[str] = []
        #: The call's cost, once finished: the provider's, else its tokens at
        #: the price they are folded with; ``None`` when unknown.
        self.cost_usd: float | None = None
        attributes: dict[str, AttributeValue] = {
            "gen_ai.operation.name": "chat",
            "langfuse.observation.type": "generation",
            **tracing.identity_attributes(self.persona, self.chatmode),
            **tracing.metadata_attributes("langfuse.observation.metadata", options.get("metadata")),
        }
        if owner.model:
            attributes["gen_ai.request.model"] = owner.model
        if owner.system:
            attributes["gen_ai.provider.name"] = owner.system
            if tracing.deprecated_genai_attributes():
                attributes["gen_ai.system"] = owner.system
        conversation = options.get("conversation_id")
        if isinstance(conversation, str) and conversation:
            attributes["gen_ai.conversation.id"] = conversation
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
        self.response_id = self.response_id or response_id(response)
        self.finish_reasons += finish_reasons(response)
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
        if self.response_id:
            span.set_attribute("gen_ai.response.id", self.response_id)
        if self.finish_reasons:
            span.set_attribute("gen_ai.response.finish_reasons", tuple(self.finish_reasons))
        if self.provider and not self.owner.system:  # read off the response's client
            span.set_attribute("gen_ai.provider.name", self.provider)
        self.cost_usd = usage.cost_usd
        if self.cost_usd is None and usage.known:
            self.cost_usd = self.owner.collector.state.prices.cost(
                self.model,
                time.time(),
                usage.input_tokens or 0,
                usage.output_tokens or 0,
                usage.cache_read_tokens,
                usage.cache_write_tokens,
            )
        span.set_attributes(tracing.genai_cost_attributes(self.cost_usd))
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


def persona_of(owner: CallOwner, options: dict[Any, Any]) -> str:
    """The persona a call is made as: the call's own, the wrapper's, the
    enclosing stage's, else ``unknown``."""
    return options.get("persona") or owner.persona or tracing.current_persona.get() or "unknown"


__all__ = ["CallOwner", "LLMCall", "persona_of"]
