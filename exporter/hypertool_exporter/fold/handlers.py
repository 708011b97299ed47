"""How each kind of event changes the state: one handler per event class.

Each handler works from a plan cached per distinct label values of its
events: the admitted label values (``fold.cardinality``), the series keys and
the histogram series those values lead to, worked out once. A replay folds a
million events through these, so the common event touches only the dicts and
lists it changes.

Caching changes nothing: a label value's admission never changes once made
(a value seen is kept; one refused is refused while the cap is full, which it
stays), and a value first appears in the first event of some label
combination, whose plan admits it then, in the order the fields are
declared. A plan that holds a refused value is not cached: every event of
its labels counts its own refusals (``label_values_folded``), so the count
does not depend on which plans were cached. Plans are dropped when a
snapshot is restored (the series they point to are replaced) and when a
price changes.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ..model import catalog as c
from ..model.events import LLMCallFinished, PersonaSwitched, StageFinished, TokensUsed
from ..model.fields import FAILED, GATE_RESULTS, TOKEN_TYPES
from ..model.money import FEMTO_PER_USD, femto_of
from ..model.pricing import SOURCE_INSTRUMENTATION, SOURCE_PROVIDER
from ..model.work import QualityScored, ToolCallFinished, WorkflowCharged, WorkflowRunFinished
from .calls import CallFold
from .histogram import Histogram, histogram_of
from .plans import Cliff, PriceWindow, TokenPlan, TokenSeries, count_tokens
from .sessions import SessionFold
from .usage_runs import fold_usage_run
from .work import WorkFold

if TYPE_CHECKING:
    from collections.abc import Callable

    from ..model.budgets import BudgetBook
    from ..model.pricing import PriceTable
    from .cardinality import LabelGuard
    from .genai import GenAIFold
    from .series import Series

#: Label combinations whose fold plan is cached, per event class (the label
#: caps bound them anyway).
MAX_CACHED_PLANS = 20_000

#: The ``events_applied_total`` keys of each class.
_USED = (TokensUsed.TYPE,)
_STAGED = (StageFinished.TYPE,)
_TOKENS = c.PERSONA_TOKENS.name
REPORTED = c.PERSONA_REPORTED_COST.name
_STAGES = c.STAGE_DURATION.name
_GATES = c.QUALITY_GATE.name

#: A stage plan: the (workflow, stage, persona) key, its duration histogram,
#: and the gate counter's key of each gate result.
StagePlan = tuple[tuple[str, str, str], Histogram, dict[str, tuple[str, str, str, str]]]


def _both_results(gates: dict[Any, float], gate_keys: dict[str, tuple[str, str, str, str]]) -> None:
    """Make both results' series of a gate, each at 0 if it has none: they
    exist from the gate's first verdict on, so a failure ratio is 0 rather
    than absent while nothing has failed yet."""
    for gate_key in gate_keys.values():
        gates.setdefault(gate_key, 0.0)


def _count_verdicts(
    gates: dict[Any, float], gate_keys: dict[str, tuple[str, str, str, str]], gate: str, n: int
) -> None:
    """Count ``n`` verdicts ``gate`` of a stage's gate (its first: both results' series made)."""
    gate_key = gate_keys[gate]
    count = gates.get(gate_key)
    if count is None:  # the first verdict of these labels
        _both_results(gates, gate_keys)
        count = 0.0
    gates[gate_key] = count + n


class Handlers:
    """The fold of each event class into ``series``. ``fold.state.MetricState``
    calls them under its lock; ``fold.batches`` calls ``tokens_used`` and
    ``resolve_price`` for the records it cannot add up."""

    def __init__(
        self,
        series: Series,
        guard: LabelGuard,
        budgets: BudgetBook,
        prices: PriceTable,
        genai: GenAIFold | None,
    ):
        self.series = series
        self.guard = guard
        self.budgets = budgets
        self.prices = prices
        self.genai = genai
        self.work = WorkFold(series, guard, prices, self._cacheable)
        self.sessions = SessionFold(series, guard, self._cacheable)
        self.calls = CallFold(series, guard, genai, self._cacheable)
        #: The handler of each event class.
        self.by_type: dict[type, Callable[[Any], None]] = {
            PersonaSwitched: self.sessions.persona_switched,
            TokensUsed: self.tokens_used,
            StageFinished: self.stage_finished,
            LLMCallFinished: self.calls.llm_call_finished,
            WorkflowRunFinished: self.work.workflow_run_finished,
            ToolCallFinished: self.work.tool_call_finished,
            QualityScored: self.work.quality_scored,
            WorkflowCharged: self.work.workflow_charged,
        }
        #: The fold of a run of each event class that waits in runs
        #: (``model.runs``), by the plan cached for its labels: False when
        #: none is (``TokenBatches`` then folds its records as events until
        #: one plans it; one holding a refused value never is cached).
        self.by_run: dict[type, Callable[[tuple[Any, ...], list[Any]], bool]] = {
            TokensUsed: partial(fold_usage_run, self),  # with usage options (plain: batches)
            LLMCallFinished: self.calls.call_run,
            PersonaSwitched: self.sessions.switch_run,
            StageFinished: self.stage_run,
            ToolCallFinished: self.work.tool_run,
        }
        self.clear_plans()

    def clear_plans(self) -> None:
        """Forget every plan (the series they point to were replaced, or a
        price changed), and bind the hottest series afresh."""
        #: Token plans by (persona, chat mode, model, operation, provider).
        self.token_plans: dict[tuple[Any, ...], TokenPlan] = {}
        self._stage_plans: dict[tuple[Any, ...], StagePlan] = {}
        series = self.series
        counters = series.counters
        self._counters = counters
        self._histograms = series.histograms
        self._exemplars = series.exemplars
        self._tokens = counters[_TOKENS]
        self._costs = counters[c.PERSONA_COST.name]
        self._costs_femto = series.money[c.PERSONA_COST.name]
        self._applied = counters[c.EVENTS_APPLIED.name]
        self.work.clear_plans()
        self.sessions.clear_plans()
        self.calls.clear_plans()

    def _cacheable(self, refusals: int, plans: dict[Any, Any]) -> bool:
        """Whether a plan built while the guard's refusals stood at
        ``refusals`` may be cached in ``plans``: not one that holds a refused
        value (each event of its labels is then planned, and counts its
        refusals, so the count is the same however plans were cached or a
        snapshot restored them), and not past ``MAX_CACHED_PLANS``."""
        return self.guard.refusals == refusals and len(plans) < MAX_CACHED_PLANS

    def resolve_price(self, window: PriceWindow, model: str, ts: float) -> None:
        """Set a token plan's price ``window`` to the model's price at ``ts``
        and the span of time it holds for."""
        resolved = self.prices.resolve(model, ts)
        price = resolved.price
        window.valid_from, window.valid_until, window.price = (
            resolved.valid_from,
            resolved.valid_until,
            price,
        )
        window.rates = None if price is None or price.tiers else price.femto_per_token
        # A run of requests none past a tiered price's first threshold is
        # priced at its base rates (the batch fold adds such runs up).
        window.cliff = (
            Cliff(price.tiers[0][0], price.femto_per_token) if price and price.tiers else None
        )

    # -- workflow stages ----------------------------------------------------------

    def _stage_plan(self, labels: tuple[Any, ...]) -> StagePlan:
        """Series key, duration histogram and gate keys of stages with ``labels``."""
        admit, refusals = self.guard.admit, self.guard.refusals
        workflow, stage, persona = labels
        key = (admit("workflow", workflow), admit("stage", stage), admit("persona", persona))
        gate_keys = {result: (key[0], key[1], result, key[2]) for result in GATE_RESULTS}
        gates = self._counters[_GATES]
        if any(gate_key in gates for gate_key in gate_keys.values()):  # a verdict before
            _both_results(gates, gate_keys)  # a snapshot may have held half the pair
        plan = (key, histogram_of(self._histograms[_STAGES], key), gate_keys)
        if self._cacheable(refusals, self._stage_plans):
            self._stage_plans[labels] = plan
        return plan

    def stage_finished(self, ev: StageFinished) -> None:
        workflow, stage, persona, seconds, gate, ts, trace_id = ev
        labels = (workflow, stage, persona)
        key, duration, gate_keys = self._stage_plans.get(labels) or self._stage_plan(labels)
        index = duration.observe(seconds)
        if trace_id:
            self._exemplars[(_STAGES, key, index)] = (trace_id, seconds, ts)
        if gate is not None:
            _count_verdicts(self._counters[_GATES], gate_keys, gate, 1)
            if gate == FAILED:
                self.series.recent_failed_gates.append((ts, key[0], key[1], key[2]))
        applied = self._applied
        applied[_STAGED] = applied.get(_STAGED, 0.0) + 1.0

    def stage_run(self, labels: tuple[Any, ...], run: list[float]) -> bool:
        """``stage_finished`` for each record of a run (``model.runs``: no
        trace id, so no exemplar), in one go, by the plan cached for its
        labels; False, having folded nothing, when none is (``by_run``)."""
        _, workflow, stage, persona, gate = labels
        plan = self._stage_plans.get((workflow, stage, persona))
        if plan is None:
            return False
        key, duration, gate_keys = plan
        seconds = run[::2]
        duration.observe_each(seconds)
        if gate is not None:
            _count_verdicts(self._counters[_GATES], gate_keys, gate, len(seconds))
            if gate == FAILED:
                failed = self.series.recent_failed_gates
                failed.extend((ts, key[0], key[1], key[2]) for ts in run[1::2])
        applied = self._applied
        applied[_STAGED] = applied.get(_STAGED, 0.0) + len(seconds)
        return True

    # -- tokens -------------------------------------------------------------------

    def _token_plan(self, ev: TokensUsed, labels: tuple[Any, ...]) -> TokenPlan:
        """Everything a tokens event with ``ev``'s ``labels`` touches, worked
        out once: admitted label values, series keys, the budget, and a
        window over which the model's resolved price holds."""
        admit, refusals = self.guard.admit, self.guard.refusals
        p, m, model_label = (
            admit("persona", ev.persona),
            admit("chatmode", ev.chatmode),
            admit("model", ev.model),
        )
        series = TokenSeries(*((p, m, model_label, token_type) for token_type in TOKEN_TYPES))
        plan = TokenPlan(
            series,
            (p, m, model_label),
            (p, model_label),
            p,
            self.budgets.budget_for(p) is not None,
            tuple((_TOKENS, key, -1) for key in series),
        )
        if self.genai is not None:
            plan.histograms += self.genai.token_histograms(ev, model_label, p)
        if self._cacheable(refusals, self.token_plans):
            self.token_plans[labels] = plan
        return plan

    def tokens_used(self, ev: TokensUsed) -> None:
        """The most frequent event, so it touches the counters directly. Token
        types are counted disjointly (``fold.plans.count_tokens``); the budget
        is charged every billable token once (input + output)."""
        # fmt: off
        (persona, model, input_tokens, output_tokens, chatmode, ts, trace_id,
         cache_read, cache_write, reasoning, reported, operation, provider,
         workflow, stage, estimate) = ev
        # fmt: on
        labels = (persona, chatmode, model, operation, provider)
        plan = self.token_plans.get(labels) or self._token_plan(ev, labels)
        uncached = input_tokens - cache_read - cache_write
        answered = output_tokens - reasoning
        count_tokens(
            self._tokens, plan.series, uncached, answered, cache_read, cache_write, reasoning
        )
        cost_key = plan.cost_key
        if reported is not None:  # the provider's (or the app's) own figure
            cost = femto_of(reported)
            self.series.add_money(REPORTED, (*cost_key, SOURCE_PROVIDER), cost)
        else:
            window = plan.window
            if not window.valid_from <= ts < window.valid_until:
                self.resolve_price(window, model, ts)
            if window.rates is not None:
                cost = window.rates.cost(uncached, output_tokens, cache_read, cache_write)
            elif window.price is not None:  # a tiered price: the tier depends on the request
                cost = window.price.cost_femto(input_tokens, output_tokens, cache_read, cache_write)
            elif estimate is not None:  # no price here: the instrumentation's own
                cost = femto_of(estimate)
                self.series.add_money(REPORTED, (*cost_key, SOURCE_INSTRUMENTATION), cost)
            else:
                cost = 0
                unpriced = self._counters[c.PERSONA_UNPRICED_TOKENS.name]
                key = plan.unpriced_key
                unpriced[key] = unpriced.get(key, 0.0) + input_tokens + output_tokens
        femto = self._costs_femto
        total = femto[cost_key] = femto.get(cost_key, 0) + cost
        self._costs[cost_key] = total / FEMTO_PER_USD
        if plan.budgeted:
            self.budgets.charge(plan.persona, ts, input_tokens + output_tokens, cost)
        applied = self._applied
        applied[_USED] = applied.get(_USED, 0.0) + 1.0
        if self.genai is not None:
            histograms = plan.histograms
            histograms[0].observe(input_tokens)
            histograms[1].observe(output_tokens)
        if workflow is not None and stage is not None:
            self.work.charge_stage(
                workflow, stage, cost, uncached, answered, cache_read, cache_write, reasoning
            )
        if trace_id is not None:  # unrolled: an exemplar for each type counted
            exemplars, keys = self._exemplars, plan.exemplar_keys
            if uncached:
                exemplars[keys[0]] = (trace_id, uncached, ts)
            if answered:
                exemplars[keys[1]] = (trace_id, answered, ts)
            if cache_read:
                exemplars[keys[2]] = (trace_id, cache_read, ts)
            if cache_write:
                exemplars[keys[3]] = (trace_id, cache_write, ts)
            if reasoning:
                exemplars[keys[4]] = (trace_id, reasoning, ts)


__all__ = ["MAX_CACHED_PLANS", "Handlers", "StagePlan"]
