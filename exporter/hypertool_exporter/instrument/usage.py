"""Reading token usage from LLM responses, whatever the client library.

One reader for every shape, complete responses and stream chunks alike:

- OpenAI chat completions: ``usage.prompt_tokens`` (cache reads included, in
  ``prompt_tokens_details.cached_tokens``), ``usage.completion_tokens``
  (reasoning included, in ``completion_tokens_details.reasoning_tokens``);
  the final stream chunk with ``stream_options={"include_usage": True}``.
- OpenAI Responses: ``usage.input_tokens`` / ``output_tokens`` with
  ``input_tokens_details`` / ``output_tokens_details``.
- Anthropic: ``usage.input_tokens`` *excludes* the cache, which comes as
  ``cache_creation_input_tokens`` and ``cache_read_input_tokens``: they are
  added, so input means every prompt token here too. Streams carry it in
  ``message_start`` (``message.usage``) and ``message_delta``.
- Gemini: ``usage_metadata`` / ``usageMetadata`` with ``prompt_token_count``
  (cache included, as ``cached_content_token_count``),
  ``candidates_token_count`` and ``thoughts_token_count`` (added to the output
  as reasoning).
- A provider's own cost: OpenRouter's ``usage.cost``, LiteLLM's
  ``_hidden_params["response_cost"]``.

Plain dicts of each work too. Nothing is ever estimated: a response without
usage gives ``None``. A test holds this reader to genai-prices'
``extract_usage`` on complete responses (which it cannot read from streams,
from unknown models, or for reported costs).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..model.fields import EventError


@dataclass
class TokenUsage:
    """Token counts one response (or a stream so far) reported; ``None`` where it
    said nothing. Cache counts are part of ``input_tokens``, reasoning part of
    ``output_tokens``."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float | None = None

    @property
    def known(self) -> bool:
        return self.input_tokens is not None or self.output_tokens is not None

    def merge(self, other: TokenUsage | None) -> None:
        """Keep the largest count seen of each kind (streams report running totals,
        or the input in one chunk and the output in another)."""
        if other is None:
            return
        if other.input_tokens is not None:
            self.input_tokens = max(self.input_tokens or 0, other.input_tokens)
        if other.output_tokens is not None:
            self.output_tokens = max(self.output_tokens or 0, other.output_tokens)
        self.cache_read_tokens = max(self.cache_read_tokens, other.cache_read_tokens)
        self.cache_write_tokens = max(self.cache_write_tokens, other.cache_write_tokens)
        self.reasoning_tokens = max(self.reasoning_tokens, other.reasoning_tokens)
        if other.cost_usd is not None:
            self.cost_usd = other.cost_usd


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(obj: Any, *names: str) -> int | None:
    """The first of ``names`` that ``obj`` has as a non-negative whole number."""
    for name in names:
        value = _get(obj, name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _money(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def _gemini(meta: Any) -> TokenUsage | None:
    prompt = _count(meta, "prompt_token_count", "promptTokenCount")
    answer = _count(meta, "candidates_token_count", "candidatesTokenCount")
    thoughts = _count(meta, "thoughts_token_count", "thoughtsTokenCount") or 0
    if prompt is None and answer is None:
        return None
    return TokenUsage(
        input_tokens=prompt,
        output_tokens=None if answer is None else answer + thoughts,
        cache_read_tokens=_count(meta, "cached_content_token_count", "cachedContentTokenCount")
        or 0,
        reasoning_tokens=thoughts,
    )


def _usage(usage: Any) -> TokenUsage | None:
    cache_write = _count(usage, "cache_creation_input_tokens")
    cache_read = _count(usage, "cache_read_input_tokens")
    if cache_write is not None or cache_read is not None:  # Anthropic: cache outside input
        base = _count(usage, "input_tokens")
        found = TokenUsage(
            input_tokens=None if base is None else base + (cache_write or 0) + (cache_read or 0),
            output_tokens=_count(usage, "output_tokens"),
            cache_read_tokens=cache_read or 0,
            cache_write_tokens=cache_write or 0,
        )
    else:  # OpenAI chat completions or Responses: cache inside input
        prompt_details = _get(usage, "prompt_tokens_details") or _get(usage, "input_tokens_details")
        output_details = _get(usage, "completion_tokens_details") or _get(
            usage, "output_tokens_details"
        )
        found = TokenUsage(
            input_tokens=_count(usage, "prompt_tokens", "input_tokens"),
            output_tokens=_count(usage, "completion_tokens", "output_tokens"),
            cache_read_tokens=_count(prompt_details, "cached_tokens") or 0,
            reasoning_tokens=_count(output_details, "reasoning_tokens") or 0,
        )
    found.cost_usd = _money(_get(usage, "cost"))
    return found if found.known else None


def extract_usage(response: Any) -> TokenUsage | None:
    """Token usage reported by one response or stream chunk, or ``None``."""
    if response is None or isinstance(response, str | bytes):
        return None
    found = _usage(_get(response, "usage"))
    if found is None:
        # Anthropic's streaming message_start carries it one level down.
        message = _get(response, "message")
        if message is not None and not isinstance(message, str):
            found = _usage(_get(message, "usage"))
    if found is None:
        meta = _get(response, "usage_metadata") or _get(response, "usageMetadata")
        if meta is not None:
            found = _gemini(meta)
    if found is not None and found.cost_usd is None:
        hidden = _get(response, "_hidden_params")
        found.cost_usd = _money(_get(hidden, "response_cost"))
    return found


def response_model(response: Any) -> str | None:
    """The model that actually answered, when the response says so."""
    if response is None or isinstance(response, str | bytes):
        return None
    model = _get(response, "model") or _get(response, "model_version")
    model = model or _get(response, "modelVersion")
    return model if isinstance(model, str) and model else None


def response_id(response: Any) -> str | None:
    """The provider's id of the response (OpenAI's ``chatcmpl-...``, Anthropic's
    ``msg_...``; a stream's chunks carry it, Anthropic's in its start event)."""
    if response is None or isinstance(response, str | bytes):
        return None
    found = _get(response, "id") or _get(_get(response, "message"), "id")
    found = found or _get(response, "response_id") or _get(response, "responseId")
    return found if isinstance(found, str) and found else None


def finish_reasons(response: Any) -> list[str]:
    """Why the response (or stream chunk) ended, per choice: OpenAI's choices'
    ``finish_reason``, Anthropic's ``stop_reason`` (in a stream, its
    ``message_delta``), Gemini's candidates' ``finish_reason``."""
    if response is None or isinstance(response, str | bytes):
        return []
    reasons = []
    for choice in _get(response, "choices") or _get(response, "candidates") or ():
        reason = _get(choice, "finish_reason")
        reason = _get(reason, "name") or reason  # Gemini's is an enum
        if isinstance(reason, str) and reason:
            reasons.append(reason)
    stop = _get(response, "stop_reason") or _get(_get(response, "delta"), "stop_reason")
    if isinstance(stop, str) and stop:
        reasons.append(stop)
    return reasons


def _choice_text(choice: Any) -> str | None:
    for part in (_get(choice, "message"), _get(choice, "delta")):
        content = _get(part, "content")
        if isinstance(content, str):
            return content
    text = _get(choice, "text")
    return text if isinstance(text, str) else None


def response_text(response: Any) -> str | None:
    """The text a response (or stream chunk) carries, for a span's completion:
    OpenAI's first choice (message, stream delta or legacy text), Anthropic's
    text blocks and deltas, Gemini's ``text``; a string is its own text.
    ``None`` for anything else: a response's ``repr`` is not its text."""
    if isinstance(response, str):
        return response
    if response is None or isinstance(response, bytes):
        return None
    choices = _get(response, "choices")
    if isinstance(choices, list | tuple):
        return _choice_text(choices[0]) if choices else None
    content = _get(response, "content")
    if isinstance(content, list | tuple):  # Anthropic message
        texts = [_get(block, "text") for block in content]
        return "".join(t for t in texts if isinstance(t, str)) or None
    delta = _get(response, "delta")  # Anthropic stream: content_block_delta
    if delta is not None and not isinstance(delta, str):
        text = _get(delta, "text")
        return text if isinstance(text, str) else None
    text = _get(response, "text")  # Gemini
    if isinstance(text, str):
        return text
    return None


#: Client libraries' top-level packages -> ``gen_ai.provider.name``.
CLIENT_PROVIDERS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "google": "gcp.gemini",
    "mistralai": "mistral_ai",
    "cohere": "cohere",
    "groq": "groq",
}


def response_provider(response: Any) -> str | None:
    """The provider a response object came from, by its client library
    (``openai``, ``anthropic``, ...); ``None`` for dicts and unknown types,
    which leaves the provider to the model's name."""
    package = type(response).__module__.partition(".")[0]
    return CLIENT_PROVIDERS.get(package)


def usage_counts(usage: Mapping[str, Any] | None) -> tuple[int | None, int | None]:
    """(input, output) tokens of a usage dict in the shapes the documents use:
    OpenAI's ``prompt_tokens``/``completion_tokens``, ``input_tokens``/
    ``output_tokens``, Langfuse's ``input``/``output``; a ``total`` alone is
    counted as input (the split is unknown). ``(None, None)``: no usage."""
    if not usage:
        return None, None
    if "input" in usage or "output" in usage:
        return usage.get("input", 0), usage.get("output", 0)
    found = extract_usage({"usage": dict(usage)})
    if found is not None:
        return found.input_tokens, found.output_tokens
    if "total" in usage or "total_tokens" in usage:
        return usage.get("total", usage.get("total_tokens")), 0
    raise EventError("usage", dict(usage), "needs input/output or prompt/completion token counts")


__all__ = [
    "CLIENT_PROVIDERS",
    "TokenUsage",
    "extract_usage",
    "finish_reasons",
    "response_id",
    "response_model",
    "response_provider",
    "response_text",
    "usage_counts",
]
