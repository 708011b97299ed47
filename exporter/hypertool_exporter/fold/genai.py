"""The OpenTelemetry GenAI convention metrics, folded from the same events.

``gen_ai_client_token_usage`` takes each ``TokensUsed`` as one call's usage
(an input and an output observation); ``gen_ai_client_operation_duration_seconds``
and ``gen_ai_client_operation_time_to_first_chunk_seconds`` take each
``LLMCallFinished``. Labels are the conventions' (operation, provider, request
model, token type or error type) plus our ``persona``, so they join the
budgets. An event without an operation is a ``chat``; without a provider, the
provider genai-prices knows the model by. Operation, provider and error type
values come from remote spans, so they are capped like every other label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import catalog as c
from ..model.events import LLMCallFinished, TokensUsed
from ..model.price_database import provider_name
from .histogram import Histogram, HistogramSeries, histogram_of

if TYPE_CHECKING:
    from .cardinality import LabelGuard

_TOKENS = c.GENAI_TOKEN_USAGE
_DURATION = c.GENAI_DURATION
_FIRST_CHUNK = c.GENAI_TIME_TO_FIRST_CHUNK


class GenAIFold:
    """Observes the GenAI histograms in ``histograms`` (the state's own dict,
    read at each event, so a restore that replaces series is seen)."""

    def __init__(self, histograms: dict[str, HistogramSeries], guard: LabelGuard):
        self.histograms = histograms
        self.guard = guard
        #: model -> provider name, looked up once per model.
        self._providers: dict[str, str] = {}

    def _common(self, operation: str | None, provider: str | None, model: str) -> tuple[str, str]:
        admit = self.guard.admit
        if provider is None:
            provider = self._providers.get(model)
            if provider is None:
                provider = self._providers[model] = provider_name(model)
        return (admit("operation", operation or "chat"), admit("provider", provider))

    def token_histograms(self, ev: TokensUsed, model: str, persona: str) -> list[Histogram]:
        """The (input, output) token histograms of ``ev``'s series, created if new
        (the fold keeps them in its per-label plan for events like ``ev``)."""
        operation, provider = self._common(ev.operation, ev.provider, ev.model)
        series = self.histograms[_TOKENS.name]
        return [
            histogram_of(series, (operation, provider, model, token_type, persona))
            for token_type in ("input", "output")
        ]

    def duration_histogram(self, ev: LLMCallFinished, model: str, persona: str) -> Histogram:
        """The duration histogram of ``ev``'s series, created if new (the fold
        keeps it in its per-label plan for calls like ``ev``)."""
        operation, provider = self._common(ev.operation, ev.provider, ev.model)
        error_type = "" if ev.error_type is None else self.guard.admit("error_type", ev.error_type)
        key = (operation, provider, model, error_type, persona)
        return histogram_of(self.histograms[_DURATION.name], key)

    def first_chunk(self, ev: LLMCallFinished, model: str, persona: str) -> None:
        """A streamed call's time to its first chunk (``ev.ttft_seconds`` is set)."""
        if ev.ttft_seconds is None:
            return
        operation, provider = self._common(ev.operation, ev.provider, ev.model)
        key = (operation, provider, model, persona)
        series = self.histograms[_FIRST_CHUNK.name]
        histogram_of(series, key).observe(ev.ttft_seconds)


__all__ = ["GenAIFold"]
