"""The Hypertool plan's own calls on the Langfuse facade: one LLM call as a
trace (``trace_llm_call``), a persona's task with its quality score
(``trace_persona_generation``), and scores in Langfuse's shape (``score``).

Written over the facade's traces and generations (``langfuse_api``), and
over the collector for the scores: a mixin of ``LangfuseIntegration``, in a
module of its own to keep each small.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..model.fields import EventError
from . import tracing
from .observation import Observation

if TYPE_CHECKING:
    from .collector import PersonaMetricsCollector

log = logging.getLogger("hypertool_exporter.instrument.langfuse_api")


class PlanCalls:
    """``trace_llm_call``, ``trace_persona_generation`` and ``score``."""

    collector: PersonaMetricsCollector

    if TYPE_CHECKING:  # the facade's

        def start_trace(
            self,
            name: str,
            persona: str | None = None,
            chatmode: str | None = None,
            metadata: Mapping[str, Any] | None = None,
            *,
            tags: list[str] | tuple[str, ...] = (),
        ) -> Observation: ...

        def create_generation(
            self,
            trace: Observation,
            name: str,
            model: str,
            prompt: Any = None,
            completion: Any = None,
            usage: Mapping[str, Any] | None = None,
            *,
            metadata: Mapping[str, Any] | None = None,
            cost_usd: float | None = None,
            latency_ms: float | None = None,
        ) -> Observation: ...

    async def trace_llm_call(
        self,
        persona: str,
        chatmode: str,
        model: str,
        prompt: Any,
        response: Any,
        tokens_used: int,
        cost_usd: float | None,
        latency_ms: float,
        metadata: Mapping[str, Any] | None = None,
    ) -> Observation:
        """The plan's one-call form: a trace named ``{persona}_{chatmode}_llm_call``
        holding one generation (``tokens_used`` counted as input)."""
        trace = self.start_trace(f"{persona}_{chatmode}_llm_call", persona, chatmode, metadata)
        try:
            self.create_generation(
                trace,
                "llm_call",
                model,
                prompt,
                response,
                {"total": tokens_used},
                cost_usd=cost_usd,
                latency_ms=latency_ms,
            )
        except BaseException:
            trace.end("error")
            raise
        trace.end("success")
        return trace

    def score(
        self,
        target: Observation | str | None = None,
        value: float | str | None = None,
        *,
        name: str = "quality",
        trace_id: str | None = None,
        comment: str | None = None,
        persona: str | None = None,
    ) -> None:
        """A score in Langfuse's shape (``score(trace_id=..., name=...,
        value=...)``, or the plan's ``score(item.id, value)``): a number is a
        quality score, text a verdict (Langfuse's categorical scores); both go
        to ``hypertool_quality_score`` / ``hypertool_evaluations_total`` for
        the persona of ``target`` (an ``Observation``) or ``persona``. On a
        live observation it is also a ``gen_ai.evaluation.result`` span event."""
        observation = target if isinstance(target, Observation) else None
        who = persona or (observation.persona if observation else None) or "unknown"
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        label = value if isinstance(value, str) else None
        if number is None and label is None:
            raise EventError("value", value, "must be a number or a verdict in words")
        if observation is not None:
            trace_id = tracing.trace_id_of(observation.span)  # None without tracing
        self.collector.record_quality_score(who, name, number, label, trace_id=trace_id)
        if observation is not None and not observation.ended:
            attributes: dict[str, Any] = {"gen_ai.evaluation.name": name}
            if number is not None:
                attributes["gen_ai.evaluation.score.value"] = float(number)
            if label is not None:
                attributes["gen_ai.evaluation.score.label"] = label
            if comment:
                attributes["gen_ai.evaluation.explanation"] = comment
            observation.span.add_event("gen_ai.evaluation.result", attributes)
        log.debug("score %r = %r for persona %s", name, value, who)

    async def trace_persona_generation(
        self,
        persona: str,
        task_type: str,
        input_context: Any = None,
        output: Any = None,
        quality_score: float | None = None,
        *,
        model: str | None = None,
        usage: Mapping[str, Any] | None = None,
    ) -> Observation:
        """The plan's persona task: a trace ``{persona}_{task_type}`` holding a
        generation (counted when ``model`` and ``usage`` say what it used), and
        its ``quality_score`` as the score "quality"."""
        trace = self.start_trace(f"{persona}_{task_type}", persona, metadata={"task": task_type})
        try:
            if model is not None:
                self.create_generation(trace, task_type, model, input_context, output, usage)
            if quality_score is not None:
                self.score(trace, quality_score, comment=f"Automated quality score for {task_type}")
        except BaseException:
            trace.end("error")
            raise
        trace.end("success")
        return trace


__all__ = ["PlanCalls"]
