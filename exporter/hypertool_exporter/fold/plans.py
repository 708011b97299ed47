"""What a token event's label set touches, worked out once, and the token rule.

A ``TokenPlan`` names the series a tokens event of one label set adds to,
its persona's budget, the price window of its model and its GenAI
histograms. The handler (one event) and the batch fold (many records added
up) both count through ``count_tokens`` and price through ``Rates.cost``:
the rule is written once, and the batch fold's exactness rests on it being
linear (``fold.batches``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from ..model.pricing import Price, Rates
    from .histogram import Histogram

LabelKey = tuple[str, ...]


class TokenSeries(NamedTuple):
    """The token counter's series keys of one label set, one per token type
    (``model.fields.TOKEN_TYPES``, in that order)."""

    input: LabelKey
    output: LabelKey
    cache_read: LabelKey
    cache_write: LabelKey
    reasoning: LabelKey


class Cliff(NamedTuple):
    """A tiered price's base: the rates of requests up to its first threshold."""

    threshold: int
    rates: Rates


@dataclass(slots=True)
class PriceWindow:
    """A model's price over ``[valid_from, valid_until)``; empty (from after
    until) until first used."""

    valid_from: float = 1.0
    valid_until: float = 0.0
    price: Price | None = None
    #: Its rates; ``None`` when unpriced or tiered (the tier depends on the request).
    rates: Rates | None = None
    #: A tiered price's base rates (``None`` otherwise).
    cliff: Cliff | None = None

    def holds(self, ts: float) -> bool:
        return self.valid_from <= ts < self.valid_until


@dataclass(slots=True)
class TokenPlan:
    """Everything a tokens event of one label set touches."""

    series: TokenSeries
    #: (persona, chat mode, model): the cost counters' key.
    cost_key: LabelKey
    #: (persona, model): the unpriced tokens counter's key.
    unpriced_key: LabelKey
    #: The admitted persona, whose budget is charged.
    persona: str
    #: Whether a budget applies (fixed by the config): most personas of a fleet
    #: without budgets skip the charge.
    budgeted: bool
    #: The token counter's exemplar key of each token type (``series``' order).
    exemplar_keys: tuple[tuple[str, LabelKey, int], ...]
    window: PriceWindow = field(default_factory=PriceWindow)
    #: The GenAI token histograms (input, output); empty until first used.
    histograms: list[Histogram] = field(default_factory=list)


def count_tokens(
    tokens: dict[LabelKey, float],
    series: TokenSeries,
    uncached: int,
    answered: int,
    cache_read: int = 0,
    cache_write: int = 0,
    reasoning: int = 0,
) -> None:
    """Add tokens to the counter, each type disjoint: input not from a cache,
    output not reasoning, cache reads, cache writes, reasoning. A zero adds
    no series."""
    if uncached:
        tokens[series.input] = tokens.get(series.input, 0.0) + uncached
    if answered:
        tokens[series.output] = tokens.get(series.output, 0.0) + answered
    if cache_read:
        tokens[series.cache_read] = tokens.get(series.cache_read, 0.0) + cache_read
    if cache_write:
        tokens[series.cache_write] = tokens.get(series.cache_write, 0.0) + cache_write
    if reasoning:
        tokens[series.reasoning] = tokens.get(series.reasoning, 0.0) + reasoning


__all__ = ["Cliff", "LabelKey", "PriceWindow", "TokenPlan", "TokenSeries", "count_tokens"]
