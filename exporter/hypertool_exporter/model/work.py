"""Events about work, beside the calls that do it: a workflow run ended, a
tool was called, an evaluation scored an output.

The same event model as ``events`` (each class's ``parse`` validates raw
input, naming the field and the value when it is wrong), in a module of its
own to keep each small; ``events`` lists them with the others.

Stdlib only: the recording CLI validates with this module.
"""

from __future__ import annotations

from .eventbase import EventRecord, event_class, tuple_new
from .fields import (
    EventError,
    label_value,
    money_value,
    optional_label,
    result_value,
    score_value,
    seconds_value,
    timestamp_value,
    token_counts,
    trace_id_value,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows CLI start-up
    from typing import Any


@event_class
class WorkflowRunFinished(EventRecord):
    """A workflow run ended: ``succeeded``, or ``failed`` (an exception left it,
    or a stage's quality gate failed). ``persona``: who ran it, when one did."""

    __slots__ = ()
    TYPE = "workflow_run_finished"
    if TYPE_CHECKING:  # the accessors ``event_class`` makes, for the type checker
        workflow: str
        result: str
        duration_seconds: float
        persona: str | None
        ts: float
        trace_id: str | None

    def __new__(
        cls,
        workflow: str,
        result: str,
        duration_seconds: float,
        persona: str | None = None,
        ts: float = 0.0,
        trace_id: str | None = None,
    ) -> WorkflowRunFinished:
        return tuple_new(cls, (workflow, result, duration_seconds, persona, ts, trace_id))

    @classmethod
    def parse(cls, raw: dict[str, Any], received: float | None = None) -> WorkflowRunFinished:
        return tuple_new(  # positional, in field order: no keyword call per event
            cls,
            (
                label_value("workflow", raw.get("workflow")),
                result_value("result", raw.get("result")),
                seconds_value("duration_seconds", raw.get("duration_seconds")),
                optional_label("persona", raw.get("persona"), persona=True),
                timestamp_value("ts", raw.get("ts"), received),
                trace_id_value("trace_id", raw.get("trace_id")),
            ),
        )


@event_class
class ToolCallFinished(EventRecord):
    """A persona (an agent) called a tool; ``error_type`` is set when it failed."""

    __slots__ = ()
    TYPE = "tool_call_finished"
    if TYPE_CHECKING:  # the accessors ``event_class`` makes, for the type checker
        persona: str
        tool: str
        duration_seconds: float
        error_type: str | None
        ts: float
        trace_id: str | None

    def __new__(
        cls,
        persona: str,
        tool: str,
        duration_seconds: float,
        error_type: str | None = None,
        ts: float = 0.0,
        trace_id: str | None = None,
    ) -> ToolCallFinished:
        return tuple_new(cls, (persona, tool, duration_seconds, error_type, ts, trace_id))

    @classmethod
    def parse(cls, raw: dict[str, Any], received: float | None = None) -> ToolCallFinished:
        return tuple_new(  # positional, in field order: no keyword call per event
            cls,
            (
                label_value("persona", raw.get("persona"), persona=True),
                label_value("tool", raw.get("tool")),
                seconds_value("duration_seconds", raw.get("duration_seconds")),
                optional_label("error_type", raw.get("error_type")),
                timestamp_value("ts", raw.get("ts"), received),
                trace_id_value("trace_id", raw.get("trace_id")),
            ),
        )


@event_class
class QualityScored(EventRecord):
    """An evaluation scored a persona's output: ``score`` (0..1 by convention),
    and ``label``, a verdict in words ("pass", "relevant"), when it gave one."""

    __slots__ = ()
    TYPE = "quality_scored"
    if TYPE_CHECKING:  # the accessors ``event_class`` makes, for the type checker
        persona: str
        evaluation: str
        score: float | None
        label: str | None
        ts: float
        trace_id: str | None

    def __new__(
        cls,
        persona: str,
        evaluation: str,
        score: float | None = None,
        label: str | None = None,
        ts: float = 0.0,
        trace_id: str | None = None,
    ) -> QualityScored:
        return tuple_new(cls, (persona, evaluation, score, label, ts, trace_id))

    @classmethod
    def parse(cls, raw: dict[str, Any], received: float | None = None) -> QualityScored:
        score, label = raw.get("score"), raw.get("label")
        if score is None and label is None:
            raise EventError("score", None, "give a score, a label or both")
        return tuple_new(  # positional, in field order: no keyword call per event
            cls,
            (
                label_value("persona", raw.get("persona"), persona=True),
                label_value("evaluation", raw.get("evaluation")),
                None if score is None else score_value("score", score),
                optional_label("label", label),
                timestamp_value("ts", raw.get("ts"), received),
                trace_id_value("trace_id", raw.get("trace_id")),
            ),
        )


@event_class
class WorkflowCharged(EventRecord):
    """A call counted before the workflow it was made in was known (over OTLP,
    a parent span arrives after its children): its tokens and cost charged to
    the workflow and stage now. The persona was charged when the call came:
    this adds to the workflow's figures alone."""

    __slots__ = ()
    TYPE = "workflow_charged"
    if TYPE_CHECKING:  # the accessors ``event_class`` makes, for the type checker
        workflow: str
        stage: str
        model: str
        input_tokens: int
        output_tokens: int
        ts: float
        cache_read_tokens: int
        cache_write_tokens: int
        reasoning_tokens: int
        cost_usd: float | None
        trace_id: str | None
        cost_estimate_usd: float | None

    def __new__(
        cls,
        workflow: str,
        stage: str,
        model: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        ts: float = 0.0,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        reasoning_tokens: int = 0,
        cost_usd: float | None = None,
        trace_id: str | None = None,
        cost_estimate_usd: float | None = None,
    ) -> WorkflowCharged:
        return tuple_new(
            cls,
            (
                workflow,
                stage,
                model,
                input_tokens,
                output_tokens,
                ts,
                cache_read_tokens,
                cache_write_tokens,
                reasoning_tokens,
                cost_usd,
                trace_id,
                cost_estimate_usd,
            ),
        )

    @classmethod
    def parse(cls, raw: dict[str, Any], received: float | None = None) -> WorkflowCharged:
        input_tokens, output_tokens, cache_read, cache_write, reasoning = token_counts(raw)
        return tuple_new(  # positional, in field order: no keyword call per event
            cls,
            (
                label_value("workflow", raw.get("workflow")),
                label_value("stage", raw.get("stage")),
                label_value("model", raw.get("model")),
                input_tokens,
                output_tokens,
                timestamp_value("ts", raw.get("ts"), received),
                cache_read,
                cache_write,
                reasoning,
                money_value("cost_usd", raw.get("cost_usd")),
                trace_id_value("trace_id", raw.get("trace_id")),
                money_value("cost_estimate_usd", raw.get("cost_estimate_usd")),
            ),
        )


WORK_EVENTS = (WorkflowRunFinished, ToolCallFinished, QualityScored, WorkflowCharged)

__all__ = [
    "WORK_EVENTS",
    "QualityScored",
    "ToolCallFinished",
    "WorkflowCharged",
    "WorkflowRunFinished",
]
