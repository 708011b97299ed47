"""OpenTelemetry spans about work: workflows, agents, tools and evaluations,
as the GenAI conventions and OpenLLMetry write them.

- A workflow span ends a run: ``gen_ai.operation.name = invoke_workflow``
  (named by ``gen_ai.workflow.name``, else the span's name), OpenLLMetry's
  ``traceloop.span.kind = workflow`` (``traceloop.entity.name``), and our
  ``WorkflowTracer``'s. It failed when its status is an error.
- A tool span is a tool call: ``execute_tool`` (``gen_ai.tool.name``), an MCP
  ``tools/call``, OpenLLMetry's ``tool`` kind.
- An agent span (``invoke_agent``, ``gen_ai.agent.name``; OpenLLMetry's
  ``agent`` kind) names the persona of the calls under it that name none.
- A stage is our ``WorkflowTracer``'s stage span, or OpenLLMetry's ``task``.
- A ``gen_ai.evaluation.result`` span event is a quality score
  (``gen_ai.evaluation.name``, ``.score.value``, ``.score.label``).

``work_tag`` says what a span is for the calls below it (remembered by
``lineage``); ``attributed`` gives a call the workflow, stage and persona
of its nearest such ancestors.
"""

from __future__ import annotations

from typing import Any, Protocol

from .eventbase import tuple_new
from .events import Event, LLMCallFinished, TokensUsed
from .fields import label_value
from .work import QualityScored, ToolCallFinished, WorkflowRunFinished


class SpanRecord(Protocol):
    """What is read of a span here (``genai.SpanRecord`` is one)."""

    trace_id: str
    name: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    status_code: int
    events: tuple[tuple[str, dict[str, Any]], ...]


#: The span event that carries an evaluation's result.
EVALUATION_EVENT = "gen_ai.evaluation.result"
#: OTLP's error status.
_ERROR = 2
#: The persona of a span that names none.
UNKNOWN = "unknown"
#: Separates a tag's parts (never in a label value: they are printable).
_SEP = "\x1f"
#: The stage a call made in a workflow but in none of its stages is charged to.
NO_STAGE = "none"


def _text(attributes: dict[str, Any], *names: str) -> str | None:
    for name in names:
        value = attributes.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _kind(span: SpanRecord) -> str | None:
    attributes = span.attributes
    operation = attributes.get("gen_ai.operation.name")
    if operation in ("invoke_workflow", "execute_tool", "invoke_agent"):
        return str(operation)
    if attributes.get("mcp.method.name") == "tools/call":
        return "execute_tool"
    return {
        "workflow": "invoke_workflow",
        "tool": "execute_tool",
        "agent": "invoke_agent",
        "task": "task",
    }.get(attributes.get("traceloop.span.kind"))  # type: ignore[arg-type]


def _name(span: SpanRecord, kind: str) -> str:
    attributes = span.attributes
    own = {
        "invoke_workflow": (
            "gen_ai.workflow.name",
            "hypertool.workflow.name",
            "traceloop.workflow.name",
        ),
        "execute_tool": ("gen_ai.tool.name", "mcp.tool.name"),
        "invoke_agent": ("gen_ai.agent.name",),
        "task": (),
    }[kind]
    found = _text(attributes, *own, "traceloop.entity.name")
    if found is not None:
        return found
    prefix = f"{kind} "
    return span.name[len(prefix) :] if span.name.startswith(prefix) else span.name


def work_tag(span: SpanRecord) -> str | None:
    """What ``span`` is to the calls below it: a workflow, a stage (with its
    workflow when it names one), an agent; ``None`` when it is none of these."""
    stage = span.attributes.get("hypertool.stage.name")
    if isinstance(stage, str) and stage:
        workflow = _text(span.attributes, "hypertool.workflow.name") or ""
        return _SEP.join(("stage", stage, workflow))
    kind = _kind(span)
    if kind == "invoke_workflow":
        return _SEP.join(("workflow", _name(span, kind)))
    if kind == "task":
        return _SEP.join(("stage", _name(span, kind), ""))
    if kind == "invoke_agent":
        return _SEP.join(("agent", _name(span, kind)))
    return None


def work_events(span: SpanRecord, persona: str, received: float) -> list[Event]:
    """A workflow span's run, a tool span's call and every evaluation the span
    carries, validated as any input (``EventError`` naming the attribute)."""
    kind = _kind(span)
    duration = (span.end_ns - span.start_ns) / 1e9
    ts = span.end_ns / 1e9
    trace_id = span.trace_id if len(span.trace_id) == 32 else None
    failed = span.status_code == _ERROR
    events: list[Event] = []
    if kind == "invoke_workflow":
        raw = {
            "workflow": _name(span, kind),
            "result": "failed" if failed else "succeeded",
            "duration_seconds": duration,
            "persona": None if persona == UNKNOWN else persona,
            "ts": ts,
            "trace_id": trace_id,
        }
        events.append(WorkflowRunFinished.parse(raw, received))
    elif kind == "execute_tool":
        error = _text(span.attributes, "error.type") or ("_OTHER" if failed else None)
        raw = {
            "persona": persona,
            "tool": _name(span, kind),
            "duration_seconds": duration,
            "error_type": error,
            "ts": ts,
            "trace_id": trace_id,
        }
        events.append(ToolCallFinished.parse(raw, received))
    for name, attributes in span.events:
        if name != EVALUATION_EVENT:
            continue
        raw = {
            "persona": persona,
            "evaluation": attributes.get("gen_ai.evaluation.name"),
            "score": attributes.get("gen_ai.evaluation.score.value"),
            "label": attributes.get("gen_ai.evaluation.score.label"),
            "ts": ts,
            "trace_id": trace_id,
        }
        events.append(QualityScored.parse(raw, received))
    return events


def context(tags: list[str]) -> tuple[str | None, str | None, str | None]:
    """(workflow, stage, agent) of a call whose ancestors' tags are ``tags``,
    nearest first: the nearest of each, a stage's workflow its own or the
    nearest workflow above it."""
    workflow = stage = agent = None
    for tag in tags:
        kind, name, *rest = tag.split(_SEP)
        if kind == "stage" and stage is None and workflow is None:
            stage = name
            workflow = rest[0] or None if rest else None
        elif kind == "workflow" and workflow is None:
            workflow = name
        elif kind == "agent" and agent is None:
            agent = name
    if workflow is not None and stage is None:
        stage = NO_STAGE
    return workflow, (stage if workflow is not None else None), agent


#: Event classes whose persona (their first field) an agent ancestor may name.
PERSONA_EVENTS = (TokensUsed, LLMCallFinished, ToolCallFinished, QualityScored)


def attributed(event: Event, workflow: str | None, stage: str | None, agent: str | None) -> Event:
    """``event`` with the persona of its agent (when it named none), and a
    call's tokens with the workflow and stage it was made in (when it names
    none): values validated here, as every label."""
    if agent is not None and type(event) in PERSONA_EVENTS and event[0] == UNKNOWN:
        persona = label_value("gen_ai.agent.name", agent, persona=True)
        event = tuple_new(type(event), (persona, *event[1:]))
    if type(event) is TokensUsed and workflow is not None and event.workflow is None:
        fields = (
            label_value("workflow", workflow),
            label_value("stage", stage or NO_STAGE),
        )
        event = tuple_new(TokensUsed, (*event[:_WORKFLOW], *fields, *event[_WORKFLOW + 2 :]))
    return event


#: Where a tokens event's workflow (then its stage) lies.
_WORKFLOW = TokensUsed._fields.index("workflow")


__all__ = [
    "EVALUATION_EVENT",
    "NO_STAGE",
    "PERSONA_EVENTS",
    "attributed",
    "context",
    "work_events",
    "work_tag",
]
