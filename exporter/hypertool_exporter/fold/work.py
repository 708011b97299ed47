"""The fold of work: workflow runs, tool calls, quality scores, and the cost
and tokens of calls made inside a workflow stage.

Runs and scores are rarer than token events (one per several calls), so
their handlers admit label values and find series as they go, without
plans. Tool calls come as often as model calls in an agent's work, and a
call's charge to its stage with every token event made in a workflow: those
two have plans, their series found once per label set, as the model
calls' have (``fold.handlers``). Called by ``fold.handlers.Handlers`` under
the state's lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..model import catalog as c
from ..model.fields import FAILED, RUN_RESULTS, SUCCEEDED, TOKEN_TYPES
from ..model.money import FEMTO_PER_USD, femto_of
from ..model.work import QualityScored, ToolCallFinished, WorkflowCharged, WorkflowRunFinished
from .histogram import histogram_of
from .plans import TokenSeries, count_tokens

if TYPE_CHECKING:
    from typing import Any

    from ..model.pricing import PriceTable
    from .cardinality import LabelGuard
    from .histogram import Histogram
    from .series import Series

_RUNS, _RUN_DURATION = c.WORKFLOW_RUNS.name, c.WORKFLOW_RUN_DURATION.name
_TOOLS, _TOOL_DURATION = c.TOOL_CALLS.name, c.TOOL_DURATION.name
_SCORES, _EVALUATIONS = c.QUALITY_SCORE.name, c.EVALUATIONS.name
_WORKFLOW_TOKENS, _WORKFLOW_COST = c.WORKFLOW_TOKENS.name, c.WORKFLOW_COST.name
_RECOVERY = c.WORKFLOW_RECOVERY.name
#: A stage's charge plan: the workflow token counter's key of each token
#: type, and the cost counter's key.
ChargePlan = tuple[TokenSeries, tuple[str, str]]
#: A tool's plan: the (persona, tool) key, the call counter's keys of a
#: success and of a failure, and the duration histogram.
ToolPlan = tuple[tuple[str, str], tuple[str, str, str], tuple[str, str, str], "Histogram"]
_TOOL_APPLIED = (ToolCallFinished.TYPE,)


class WorkFold:
    """Handlers of the work events, and the charge of a call to its stage."""

    def __init__(
        self,
        series: Series,
        guard: LabelGuard,
        prices: PriceTable,
        cacheable: Callable[[int, dict[Any, Any]], bool],
    ):
        self.series = series
        self.guard = guard
        self.prices = prices
        #: Whether a plan may be cached (``Handlers._cacheable``: the one rule).
        self._cacheable = cacheable
        self.clear_plans()

    def clear_plans(self) -> None:
        """Forget the plans (stage charges, tools), and bind the counters they
        add to afresh (``Handlers.clear_plans``: the series were replaced)."""
        self._charge_plans: dict[tuple[str, str], ChargePlan] = {}
        self._tool_plans: dict[tuple[str, str], ToolPlan] = {}
        self._tool_calls = self.series.counters[_TOOLS]
        self._applied_counts = self.series.counters[c.EVENTS_APPLIED.name]
        self._stage_tokens = self.series.counters[_WORKFLOW_TOKENS]
        self._stage_cost = self.series.counters[_WORKFLOW_COST]
        self._stage_cost_femto = self.series.money[_WORKFLOW_COST]

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

    def _tool_plan(self, labels: tuple[str, str]) -> ToolPlan:
        """The series of calls of ``labels``' tool by its persona, found once;
        both results' counts exist from the first call (a failure ratio is
        0, not absent)."""
        admit, refusals = self.guard.admit, self.guard.refusals
        persona, tool = labels
        key = (admit("persona", persona), admit("tool", tool))
        succeeded, failed = (*key, SUCCEEDED), (*key, FAILED)
        calls = self._tool_calls
        for result_key in (succeeded, failed):
            calls.setdefault(result_key, 0.0)
        duration = histogram_of(self.series.histograms[_TOOL_DURATION], key)
        plan = (key, succeeded, failed, duration)
        if self._cacheable(refusals, self._tool_plans):
            self._tool_plans[labels] = plan
        return plan

    def tool_call_finished(self, ev: ToolCallFinished) -> None:
        persona, tool, seconds, error_type, ts, trace_id = ev
        labels = (persona, tool)
        key, succeeded, failed, duration = self._tool_plans.get(labels) or self._tool_plan(labels)
        self._tool_calls[failed if error_type else succeeded] += 1.0
        index = duration.observe(seconds)
        if trace_id:
            self.series.exemplars[(_TOOL_DURATION, key, index)] = (trace_id, seconds, ts)
        applied = self._applied_counts
        applied[_TOOL_APPLIED] = applied.get(_TOOL_APPLIED, 0.0) + 1.0

    def tool_run(self, labels: tuple[Any, ...], run: list[float]) -> bool:
        """``tool_call_finished`` for each record of a run (``model.runs``:
        no trace id, so no exemplar), in one go, by the plan cached for its
        labels; False, having folded nothing, when none is (``Handlers.by_run``)."""
        _, persona, tool, error_type = labels
        plan = self._tool_plans.get((persona, tool))
        if plan is None:
            return False
        _, succeeded, failed, duration = plan
        seconds = run[::2]
        calls = self._tool_calls
        result = failed if error_type else succeeded
        calls[result] += len(seconds)  # whole numbers: as exact as adding 1.0 each
        duration.observe_each(seconds)
        applied = self._applied_counts
        applied[_TOOL_APPLIED] = applied.get(_TOOL_APPLIED, 0.0) + len(seconds)
        return True

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
        uncached, answered = input_tokens - cache_read - cache_write, output_tokens - reasoning
        self.charge_stage(
            workflow, stage, femto, uncached, answered, cache_read, cache_write, reasoning
        )
        self._applied(WorkflowCharged.TYPE)

    def _charge_plan(self, workflow: str, stage: str) -> ChargePlan:
        """The series keys of calls charged to ``workflow``'s ``stage``, found once."""
        admit, refusals = self.guard.admit, self.guard.refusals
        key = (admit("workflow", workflow), admit("stage", stage))
        plan = (TokenSeries(*((*key, token_type) for token_type in TOKEN_TYPES)), key)
        if self._cacheable(refusals, self._charge_plans):
            self._charge_plans[(workflow, stage)] = plan
        return plan

    def charge_stage(
        self,
        workflow: str,
        stage: str,
        femto: int,
        uncached: int,
        answered: int,
        cache_read: int,
        cache_write: int,
        reasoning: int,
    ) -> None:
        """Add a call's cost in femto-dollars and its tokens (one count per
        ``TOKEN_TYPES`` entry, disjoint: the token rule, ``count_tokens``) to
        the workflow stage it was made in (``Series.add_money``'s two sums,
        inline: once per token event)."""
        token_keys, cost_key = self._charge_plans.get((workflow, stage)) or self._charge_plan(
            workflow, stage
        )
        count_tokens(
            self._stage_tokens, token_keys, uncached, answered, cache_read, cache_write, reasoning
        )
        exact = self._stage_cost_femto
        total = exact[cost_key] = exact.get(cost_key, 0) + femto
        self._stage_cost[cost_key] = total / FEMTO_PER_USD


__all__ = ["WorkFold"]
