"""The fold of work: workflow runs, tool calls, quality scores, and the cost
and tokens of calls made inside a workflow stage.

Rarer than token events (a run, a tool call or a score per several calls),
so each handler admits its label values and finds its series as it goes,
without plans. Called by ``fold.handlers.Handlers`` under the state's lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..model import catalog as c
from ..model.fields import FAILED, RUN_RESULTS, SUCCEEDED, TOKEN_TYPES
from ..model.money import femto_of
from ..model.work import QualityScored, ToolCallFinished, WorkflowCharged, WorkflowRunFinished
from .histogram import histogram_of

if TYPE_CHECKING:
    from ..model.pricing import PriceTable
    from .cardinality import LabelGuard
    from .series import Series

_RUNS, _RUN_DURATION = c.WORKFLOW_RUNS.name, c.WORKFLOW_RUN_DURATION.name
_TOOLS, _TOOL_DURATION = c.TOOL_CALLS.name, c.TOOL_DURATION.name
_SCORES, _EVALUATIONS = c.QUALITY_SCORE.name, c.EVALUATIONS.name
_WORKFLOW_TOKENS, _WORKFLOW_COST = c.WORKFLOW_TOKENS.name, c.WORKFLOW_COST.name
_RECOVERY = c.WORKFLOW_RECOVERY.name


class WorkFold:
    """Handlers of the work events, and the charge of a call to its stage."""

    def __init__(self, series: Series, guard: LabelGuard, prices: PriceTable):
        self.series = series
        self.guard = guard
        self.prices = prices

    def _applied(self, kind: str) -> None:
        self.series.inc(c.EVENTS_APPLIED.name, (kind,))

    def workflow_run_finished(self, ev: WorkflowRunFinished) -> None:
        workflow, result, seconds, _persona, ts, trace_id = ev
        workflow = self.guard.admit("workflow", workflow)
        runs = self.series.counters[_RUNS]
        for each in RUN_RESULTS:  # both exist from the first run: success ratios are 0, not absent
            runs.setdefault((workflow, each), 0.0)
        runs[(workflow, result)] += 1.0
        key = (workflow, result)
        index = histogram_of(self.series.histograms[_RUN_DURATION], key).observe(seconds)
        if trace_id:
            self.series.exemplars[(_RUN_DURATION, key, index)] = (trace_id, seconds, ts)
        failing = self.series.failing_since
        if result == FAILED:
            failing.setdefault(workflow, ts)
        elif workflow in failing:  # restored: from the first failure to this success
            took = max(0.0, ts - failing.pop(workflow))
            histogram_of(self.series.histograms[_RECOVERY], (workflow,)).observe(took)
        self._applied(WorkflowRunFinished.TYPE)

    def tool_call_finished(self, ev: ToolCallFinished) -> None:
        persona, tool, seconds, error_type, ts, trace_id = ev
        admit = self.guard.admit
        persona, tool = admit("persona", persona), admit("tool", tool)
        calls = self.series.counters[_TOOLS]
        for each in RUN_RESULTS:
            calls.setdefault((persona, tool, each), 0.0)
        calls[(persona, tool, FAILED if error_type else SUCCEEDED)] += 1.0
        key = (persona, tool)
        index = histogram_of(self.series.histograms[_TOOL_DURATION], key).observe(seconds)
        if trace_id:
            self.series.exemplars[(_TOOL_DURATION, key, index)] = (trace_id, seconds, ts)
        self._applied(ToolCallFinished.TYPE)

    def quality_scored(self, ev: QualityScored) -> None:
        persona, evaluation, score, label, ts, trace_id = ev
        admit = self.guard.admit
        key = (admit("persona", persona), admit("evaluation", evaluation))
        if score is not None:
            index = histogram_of(self.series.histograms[_SCORES], key).observe(score)
            if trace_id:
                self.series.exemplars[(_SCORES, key, index)] = (trace_id, score, ts)
        verdict = "" if label is None else admit("label", label)
        self.series.inc(_EVALUATIONS, (*key, verdict))
        self._applied(QualityScored.TYPE)

    def workflow_charged(self, ev: WorkflowCharged) -> None:
        """A call's late charge to its workflow stage: priced as its tokens
        event was (the provider's cost, else the model's price at its time)."""
        (workflow, stage, model, input_tokens, output_tokens, ts,
         cache_read, cache_write, reasoning, reported, _trace, estimate) = ev  # fmt: skip
        if reported is not None:
            femto = femto_of(reported)
        else:
            price = self.prices.resolve(model, ts).price
            if price is not None:
                femto = price.cost_femto(input_tokens, output_tokens, cache_read, cache_write)
            else:  # no price here: the instrumentation's estimate, if it made one
                femto = 0 if estimate is None else femto_of(estimate)
        counts = (
            input_tokens - cache_read - cache_write,
            output_tokens - reasoning,
            cache_read,
            cache_write,
            reasoning,
        )
        self.charge_stage(workflow, stage, counts, femto)
        self._applied(WorkflowCharged.TYPE)

    def charge_stage(self, workflow: str, stage: str, counts: tuple[int, ...], femto: int) -> None:
        """Add a call's tokens (one count per ``TOKEN_TYPES`` entry, disjoint)
        and its cost in femto-dollars to the workflow stage it was made in."""
        admit = self.guard.admit
        workflow, stage = admit("workflow", workflow), admit("stage", stage)
        tokens = self.series.counters[_WORKFLOW_TOKENS]
        for token_type, count in zip(TOKEN_TYPES, counts, strict=True):
            if count:
                key = (workflow, stage, token_type)
                tokens[key] = tokens.get(key, 0.0) + count
        self.series.add_money(_WORKFLOW_COST, (workflow, stage), femto)


__all__ = ["WorkFold"]
