"""Recording LLM calls in process: ``record_llm_call``.

``PersonaMetricsCollector`` has this method (as it has ``TokenRecording``'s
and ``WorkRecording``'s); its own module keeps the collector's small. A call
whose label values were seen before, without a trace id or a first chunk's
time, is built from their validated form (``label_forms``): at
``journal.durability: buffered``, a record of its label set's run
(``model.runs``), else an event. Any other is
validated whole into an ``LLMCallFinished`` event, and bad input raises
``EventError`` naming the field, counted as a rejection.
"""

from __future__ import annotations

from ..model.events import LLMCallFinished, from_validated
from ..model.label_forms import plain_seconds
from .tokens import TokenRecording


class CallRecording(TokenRecording):
    """``record_llm_call``, for ``PersonaMetricsCollector``: a call that
    reports its tokens records them through ``record_token_usage``."""

    def record_llm_call(
        self,
        persona: str,
        model: str,
        duration_seconds: float,
        *,
        error_type: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        chatmode: str = "default",
        trace_id: str | None = None,
        usage_unknown: bool = False,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        reasoning_tokens: int = 0,
        cost_usd: float | None = None,
        ttft_seconds: float | None = None,
        provider: str | None = None,
        operation: str | None = None,
    ) -> None:
        """Record one LLM call's latency and outcome, and its tokens when known
        (the token arguments mean what they mean for ``record_token_usage``).

        ``usage_unknown=True`` counts a successful call whose usage was not
        reported (``hypertool_llm_usage_unknown_total``); nothing is estimated.
        ``ttft_seconds`` (a stream's time to first chunk), ``provider`` and
        ``operation`` (default ``chat``) feed the GenAI convention metrics.
        """
        key = (LLMCallFinished, persona, model, error_type, operation, provider, usage_unknown)
        form = self._label_forms.seen(key)
        if (
            form is not None
            and self._untraced(trace_id)
            and plain_seconds(duration_seconds)
            and type(usage_unknown) is bool  # not 1, which equals True
            and ttft_seconds is None
        ):
            if self._runs_kept:  # a record of its label set's run (``model.runs``)
                self._journal_add(form, (duration_seconds, self._clock()))
            else:
                _, name, kind, error, op, via, unknown = form
                ts = self._clock()
                values = (name, kind, duration_seconds, error, ts, None, unknown, op, via, None)
                self._add(from_validated(LLMCallFinished, values))
        else:
            trace_id = self._parsed(lambda: self._trace(trace_id))
            raw = {
                "persona": persona,
                "model": model,
                "duration_seconds": duration_seconds,
                "error_type": error_type,
                "ts": self._clock(),
                "trace_id": trace_id,
                "usage_unknown": usage_unknown,
                "ttft_seconds": ttft_seconds,
                "provider": provider,
                "operation": operation,
            }
            event = self._parsed(lambda: LLMCallFinished.parse(raw))
            self.record(event)
            form = (LLMCallFinished, *event[:2], event[3], event[7], event[8], event[6])
            self._label_forms.remember(key, form)
        if input_tokens is not None or output_tokens is not None:
            self.record_token_usage(
                persona,
                chatmode,
                model,
                input_tokens or 0,
                output_tokens or 0,
                trace_id=trace_id,
                cache_read_tokens=cache_read_tokens,
                cache_write_tokens=cache_write_tokens,
                reasoning_tokens=reasoning_tokens,
                cost_usd=cost_usd,
                provider=provider,
                operation=operation,
            )


__all__ = ["CallRecording"]
