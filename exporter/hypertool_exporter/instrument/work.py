"""Recording work in process: workflow runs, tool calls and quality scores.

``PersonaMetricsCollector`` has these methods (as it has ``TokenRecording``'s);
their own module keeps the collector's small. Each validates its input into
an event (``model.work``) and records it: bad input raises ``EventError``
naming the field, counted as a rejection, and records nothing. A call whose
label values were seen before, without a trace id, is built from their
validated form, its numbers checked (``label_forms``).

    metrics.record_tool_call("backend-engineer", "run_tests", 2.4)
    with metrics.tool_call("backend-engineer", "search_docs"):
        search(...)                       # timed; an exception counts as failed
    metrics.record_quality_score("backend-engineer", "relevance", 0.82)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..model.events import from_validated
from ..model.fields import MAX_SCORE
from ..model.label_forms import plain_seconds
from ..model.work import QualityScored, ToolCallFinished, WorkflowRunFinished
from .recording import Recording


class WorkRecording(Recording):
    """``record_workflow_run``, ``record_tool_call`` (and ``tool_call``) and
    ``record_quality_score``, for ``PersonaMetricsCollector``."""

    def record_workflow_run(
        self,
        workflow: str,
        succeeded: bool | str,
        duration_seconds: float,
        *,
        persona: str | None = None,
        trace_id: str | None = None,
    ) -> None:
        """Record a workflow run that ended: ``succeeded`` (``True``/``False``,
        or "succeeded"/"failed"). ``WorkflowTracer`` records its runs itself."""
        key = (WorkflowRunFinished, workflow, succeeded, persona)
        form = self._label_forms.seen(key)
        if (
            form is not None
            and type(succeeded) in (bool, str)  # not 1 or 1.0, which equal True
            and self._untraced(trace_id)
            and plain_seconds(duration_seconds)
        ):
            name, result, by = form
            values = (name, result, duration_seconds, by, self._clock(), None)
            self._add(from_validated(WorkflowRunFinished, values))
            return
        raw = {
            "workflow": workflow,
            "result": succeeded,
            "duration_seconds": duration_seconds,
            "persona": persona,
            "ts": self._clock(),
            "trace_id": self._parsed(lambda: self._trace(trace_id)),
        }
        event = self._parsed(lambda: WorkflowRunFinished.parse(raw))
        self.record(event)
        self._label_forms.remember(key, (event.workflow, event.result, event.persona))

    def record_tool_call(
        self,
        persona: str,
        tool: str,
        duration_seconds: float,
        error_type: str | None = None,
        *,
        trace_id: str | None = None,
    ) -> None:
        """Record a tool call by ``persona`` (an agent); ``error_type`` when it failed."""
        key = (ToolCallFinished, persona, tool, error_type)
        form = self._label_forms.seen(key)
        if form is not None and self._untraced(trace_id) and plain_seconds(duration_seconds):
            if self._runs_kept:  # a record of its label set's run (``model.runs``)
                self._journal_add(form, (duration_seconds, self._clock()))
                return
            _, name, used, error = form
            values = (name, used, duration_seconds, error, self._clock(), None)
            self._add(from_validated(ToolCallFinished, values))
            return
        raw = {
            "persona": persona,
            "tool": tool,
            "duration_seconds": duration_seconds,
            "error_type": error_type,
            "ts": self._clock(),
            "trace_id": self._parsed(lambda: self._trace(trace_id)),
        }
        event = self._parsed(lambda: ToolCallFinished.parse(raw))
        self.record(event)
        self._label_forms.remember(key, (ToolCallFinished, *event[:2], event.error_type))

    @contextmanager
    def tool_call(self, persona: str, tool: str) -> Iterator[None]:
        """Time the block as a call of ``tool``; an exception leaving it is
        the call's error (its type, recorded) and goes on. Also a decorator:
        ``@metrics.tool_call("qa", "run_tests")``."""
        started = time.perf_counter()
        error_type = None
        try:
            yield
        except BaseException as exc:
            error_type = type(exc).__name__
            raise
        finally:
            self.record_tool_call(persona, tool, time.perf_counter() - started, error_type)

    def record_quality_score(
        self,
        persona: str,
        evaluation: str,
        score: float | None = None,
        label: str | None = None,
        *,
        trace_id: str | None = None,
    ) -> None:
        """Record an evaluation of ``persona``'s output: a ``score`` (0..1 by
        convention), a ``label`` (a verdict in words), or both."""
        key = (QualityScored, persona, evaluation, label)
        form = self._label_forms.seen(key)
        if (
            form is not None
            and self._untraced(trace_id)
            and (
                (type(score) is float and 0.0 <= score <= MAX_SCORE)
                or (score is None and label is not None)
            )
        ):
            name, evaluated, verdict = form
            values = (name, evaluated, score, verdict, self._clock(), None)
            self._add(from_validated(QualityScored, values))
            return
        raw: dict[str, Any] = {
            "persona": persona,
            "evaluation": evaluation,
            "score": score,
            "label": label,
            "ts": self._clock(),
            "trace_id": self._parsed(lambda: self._trace(trace_id)),
        }
        event = self._parsed(lambda: QualityScored.parse(raw))
        self.record(event)
        self._label_forms.remember(key, (event.persona, event.evaluation, event.label))


__all__ = ["WorkRecording"]
