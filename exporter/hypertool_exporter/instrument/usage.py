"""Reading token usage from LLM responses, whatever the client library.

OpenAI-style (``usage.prompt_tokens`` / ``usage.completion_tokens``),
Anthropic-style and OpenAI Responses-style (``usage.input_tokens`` /
``usage.output_tokens``), plain dicts of either, and streams whose chunks
carry parts of it (Anthropic's ``message_start`` / ``message_delta``, OpenAI's
final chunk with ``stream_options={"include_usage": True}``). Nothing is ever
estimated: a response without usage gives ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_INPUT_FIELDS = ("prompt_tokens", "input_tokens")
_OUTPUT_FIELDS = ("completion_tokens", "output_tokens")


@dataclass
class TokenUsage:
    """Token counts one response (or a stream so far) reported; None where it said nothing."""

    input_tokens: int | None = None
    output_tokens: int | None = None

    @property
    def known(self) -> bool:
        return self.input_tokens is not None or self.output_tokens is not None

    def merge(self, other: TokenUsage | None) -> None:
        """Keep the largest count seen of each kind (streams report running totals)."""
        if other is None:
            return
        if other.input_tokens is not None:
            self.input_tokens = max(self.input_tokens or 0, other.input_tokens)
        if other.output_tokens is not None:
            self.output_tokens = max(self.output_tokens or 0, other.output_tokens)


def _get(obj: Any, name: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(obj: Any, names: tuple[str, ...]) -> int | None:
    for name in names:
        value = _get(obj, name)
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
    return None


def _from_usage_object(usage: Any) -> TokenUsage | None:
    if usage is None:
        return None
    found = TokenUsage(_count(usage, _INPUT_FIELDS), _count(usage, _OUTPUT_FIELDS))
    return found if found.known else None


def extract_usage(response: Any) -> TokenUsage | None:
    """Token usage reported by one response or stream chunk, or None."""
    if response is None or isinstance(response, str | bytes):
        return None
    found = _from_usage_object(_get(response, "usage"))
    if found is None:
        # Anthropic's streaming message_start carries it one level down.
        message = _get(response, "message")
        if message is not None and not isinstance(message, str):
            found = _from_usage_object(_get(message, "usage"))
    return found


def response_model(response: Any) -> str | None:
    """The model that actually answered, when the response says so."""
    if response is None or isinstance(response, str | bytes):
        return None
    model = _get(response, "model")
    return model if isinstance(model, str) and model else None


__all__ = ["TokenUsage", "extract_usage", "response_model"]
