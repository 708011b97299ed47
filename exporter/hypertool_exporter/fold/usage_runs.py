"""Token records with usage options folded a run at a time.

A journalled collector's ``record_token_usage`` with cache reads or writes,
reasoning tokens, a reported cost, an operation or a provider, whose label
values were seen before and which names no trace id, reservation or
workflow stage, is kept as a record of its label set's run
(``model.runs``): seven numbers, not an event. A commit hands
the fold its runs; each is added up here to exactly the state of folding
its records one by one as ``TokensUsed`` events (``Handlers.tokens_used``).

Why the sums are exact, as for plain records (``fold.batches``): token
counts, histogram bucket counts and sums of whole numbers are integers;
dollars are whole femto-dollars, each reported cost converted on its own
before it is added (``model.money.femto_of``), and a priced cost is linear in
the tokens while one price holds; a budget period's usage is the sum of its
charges. A run is added up only when one price window holds its priced
records, a price that is not tiered (a tier depends on each request), and
one budget period holds it all; any other run, and a label set's first
record (which finds its plan), is folded record by record (``fold.batches``). No record of a
run has an exemplar (no trace id) or a stage to charge, and what they touch
no other event class touches: folding them after their commit's events
changes no total.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ..model import catalog as c
from ..model.events import TokensUsed
from ..model.money import femto_of
from ..model.pricing import SOURCE_PROVIDER
from ..model.runs import usage_records_of
from .plans import count_tokens

if TYPE_CHECKING:
    from ..model.budgets import BudgetBook
    from ..model.runs import UsageRecord
    from .genai import GenAIFold
    from .plans import PriceWindow, TokenPlan
    from .series import Series


class TokenFold(Protocol):
    """What this fold reads of ``fold.handlers.Handlers`` (which holds it in
    its ``by_run``): the token plans and what a plan's sums go to."""

    token_plans: dict[tuple[Any, ...], TokenPlan]
    genai: GenAIFold | None
    budgets: BudgetBook
    series: Series

    def resolve_price(self, window: PriceWindow, model: str, ts: float) -> None: ...


_USED = (TokensUsed.TYPE,)
_NEVER = float("inf")
_TOKENS, _COST = c.PERSONA_TOKENS.name, c.PERSONA_COST.name
_REPORTED, _UNPRICED = c.PERSONA_REPORTED_COST.name, c.PERSONA_UNPRICED_TOKENS.name
_APPLIED = c.EVENTS_APPLIED.name


def fold_usage_run(handlers: TokenFold, labels: tuple[Any, ...], run: list[Any]) -> bool:
    """Add up the records of ``run`` (of ``labels``: persona, chat mode,
    model, operation, provider) by the plan cached for its labels, under the
    state's lock; False, having folded nothing, when there is none (or it has
    no GenAI histograms yet) or one price and one budget period do not hold
    them (``Handlers.by_run``: its records are then folded as events)."""
    plan = handlers.token_plans.get(labels)
    if plan is None or (handlers.genai is not None and not plan.histograms):
        return False
    return _sum_up(handlers, plan, labels, list(usage_records_of(run)))


def _sum_up(
    handlers: TokenFold, plan: TokenPlan, labels: tuple[Any, ...], records: list[UsageRecord]
) -> bool:
    """Add ``records`` up into the series of their label set's ``plan``, if
    one price and one budget period hold them; False, having folded nothing,
    if not."""
    inputs, outputs, reads, writes, reasonings, costs, stamps = zip(*records, strict=True)
    usage, until = (
        handlers.budgets.charged_until(plan.persona, min(stamps))
        if plan.budgeted
        else (None, _NEVER)
    )
    if max(stamps) >= until:  # a budget period ends among them
        return False
    priced = [record for record in records if record[5] is None]
    window = plan.window
    if priced:
        times = [record[6] for record in priced]
        first = min(times)
        if not window.valid_from <= first < window.valid_until:
            handlers.resolve_price(window, labels[2], first)
        if max(times) >= window.valid_until:  # a price change among them
            return False
        if window.rates is None and window.price is not None:  # tiered: per request
            return False
    series = handlers.series
    total_in, total_out = sum(inputs), sum(outputs)
    cache_read, cache_write, reasoning = sum(reads), sum(writes), sum(reasonings)
    count_tokens(
        series.counters[_TOKENS],
        plan.series,
        total_in - cache_read - cache_write,
        total_out - reasoning,
        cache_read,
        cache_write,
        reasoning,
    )
    cost = 0
    if len(priced) < len(records):  # the provider's own figures, each converted
        reported = sum(femto_of(figure) for figure in costs if figure is not None)
        series.add_money(_REPORTED, (*plan.cost_key, SOURCE_PROVIDER), reported)
        cost += reported
    if priced:
        rates = window.rates
        if rates is not None:
            cost += rates.cost(
                sum(r[0] - r[2] - r[3] for r in priced),
                sum(r[1] for r in priced),
                sum(r[2] for r in priced),
                sum(r[3] for r in priced),
            )
        else:  # no price known for the model
            unpriced = series.counters[_UNPRICED]
            key = plan.unpriced_key
            unpriced[key] = unpriced.get(key, 0.0) + sum(r[0] + r[1] for r in priced)
    series.add_money(_COST, plan.cost_key, cost)
    if usage is not None:
        usage.add(total_in + total_out, cost)
    applied = series.counters[_APPLIED]
    applied[_USED] = applied.get(_USED, 0.0) + len(records)
    if handlers.genai is not None:
        histograms = plan.histograms
        histograms[0].observe_all(list(inputs))
        histograms[1].observe_all(list(outputs))
    return True


__all__ = ["TokenFold", "fold_usage_run"]
