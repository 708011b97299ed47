"""Token prices and the cost of a call: config overrides first, then a price database.

A price is in US dollars per 1,000 tokens of each type. The config's
``pricing:`` entries win, model by model: by exact name, or for a dated
snapshot of an entry (``gpt-4o-2024-08-06``, ``claude-sonnet-4@20250514``
take the entry without the date, but ``gpt-4o-mini`` does not take
``gpt-4o``'s); every other model is looked up in the price database
(``price_database``: genai-prices, maintained by Pydantic), at the event's
own time, since prices change. A model found in neither is unpriced: its
cost is not estimated, its tokens are counted as unpriced.

How tokens are priced (the rule stated once): ``input_tokens`` includes the
cache reads and writes, which are priced at their own rates (the input rate
when a model has none); the rest of the input at the input rate; all output,
reasoning included, at the output rate.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from .money import FEMTO_PER_USD, usd_of

#: Where a model's price came from (the ``source`` label of the price info metric).
SOURCE_CONFIG = "config"
SOURCE_DATABASE = "genai-prices"
SOURCE_NONE = "none"
#: A cost the provider (or the app) reported for the call itself.
SOURCE_PROVIDER = "provider"
#: An instrumentation library's estimate, used for a model with no price here.
SOURCE_INSTRUMENTATION = "instrumentation"
PRICE_SOURCES = (SOURCE_CONFIG, SOURCE_DATABASE, SOURCE_INSTRUMENTATION, SOURCE_NONE)
#: Where a cost not priced here came from, best first.
REPORTED_SOURCES = (SOURCE_PROVIDER, SOURCE_INSTRUMENTATION)

#: Between a model and the date of its snapshot.
_DATE_SEPARATORS = "-:@"
_FOREVER = (float("-inf"), float("inf"))
#: Femto-dollars per token at a price of one dollar per 1,000 tokens.
_FEMTO_PER_1K = FEMTO_PER_USD / 1000


class Rates(NamedTuple):
    """Whole femto-dollars (``model.money``) per token of each disjoint type."""

    uncached: int
    output: int
    cache_read: int
    cache_write: int

    def cost(self, uncached: int, output: int, cache_read: int = 0, cache_write: int = 0) -> int:
        """The cost of tokens in whole femto-dollars: the pricing rule, applied
        in this one place. Linear in the tokens, so the cost of a sum of
        requests at one price is the sum of their costs."""
        return (
            uncached * self.uncached
            + output * self.output
            + cache_read * self.cache_read
            + cache_write * self.cache_write
        )


@dataclass(frozen=True, slots=True)
class Price:
    """USD per 1,000 tokens of each type. Cache rates default to the input rate.

    ``tiers``: (input tokens, price) pairs, ascending. A request whose input
    exceeds a tier's threshold is priced entirely at that tier (the "cliff"
    model providers use for long contexts).
    """

    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    tiers: tuple[tuple[int, Price], ...] = ()

    def at(self, input_tokens: int) -> Price:
        """The price that applies to a request with ``input_tokens`` of input."""
        for threshold, price in reversed(self.tiers):
            if input_tokens > threshold:
                return price
        return self

    @property
    def femto_per_token(self) -> Rates:
        """This price's ``Rates``: cache rates default to the input rate;
        reasoning is output. Exact for prices with up to 12 decimals per
        1,000 tokens, so costs add up exactly."""
        cache_read = self.input if self.cache_read is None else self.cache_read
        cache_write = self.input if self.cache_write is None else self.cache_write
        return Rates(
            *(
                round(per_1k * _FEMTO_PER_1K)
                for per_1k in (self.input, self.output, cache_read, cache_write)
            )
        )

    def cost_femto(
        self,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        tier_input_tokens: int | None = None,
    ) -> int:
        """Cost of one request's tokens in whole femto-dollars, at ``femto_per_token``.

        ``tier_input_tokens`` selects the tier (default: ``input_tokens``, right
        for one request); totals over many requests pass 0 for the base tier.
        """
        price = self
        if price.tiers:
            price = price.at(input_tokens if tier_input_tokens is None else tier_input_tokens)
        return price.femto_per_token.cost(
            input_tokens - cache_read_tokens - cache_write_tokens,
            output_tokens,
            cache_read_tokens,
            cache_write_tokens,
        )


@dataclass(frozen=True, slots=True)
class ResolvedPrice:
    """A model's price at some moment, where it came from, and the span of time
    ``[valid_from, valid_until)`` over which that answer holds (so callers can
    cache it)."""

    price: Price | None
    source: str
    valid_from: float = _FOREVER[0]
    valid_until: float = _FOREVER[1]
    #: For the database: Unix time of the newest price change its data holds.
    data_timestamp: float | None = None


#: ``lookup(model, ts) -> ResolvedPrice``: a price database (see ``price_database``).
PriceDatabase = Callable[[str, float], ResolvedPrice]


def _is_date_suffix(rest: str) -> bool:
    """``-2024-08-06``, ``-20250514``, ``@20250514``, ``-0613``: a separator, then
    only digits and separators."""
    return (
        len(rest) > 1
        and rest[0] in _DATE_SEPARATORS
        and all(ch.isdigit() or ch in _DATE_SEPARATORS for ch in rest)
        and any(ch.isdigit() for ch in rest)
    )


def _match(prices: dict[str, Price], model: str) -> Price | None:
    """Exact name, else the entry this model is a dated snapshot of."""
    price = prices.get(model)
    if price is not None:
        return price
    best = ""
    for name in prices:
        if len(name) > len(best) and model.startswith(name) and _is_date_suffix(model[len(name) :]):
            best = name
    return prices[best] if best else None


class PriceTable:
    """Resolves models to prices: config overrides, then the database.

    ``database``: a ``PriceDatabase``; ``model.config`` passes genai-prices'
    (``price_database.genai_prices_lookup``). Without one, only the overrides
    price anything.
    """

    def __init__(
        self,
        overrides: dict[str, Price] | None = None,
        database: PriceDatabase | None = None,
    ):
        self._overrides = dict(overrides or {})
        self._database = database
        self._config_cache: dict[str, Price | None] = {}

    def overrides(self) -> dict[str, Price]:
        """The config's prices, by model."""
        return dict(self._overrides)

    def override(self, model: str, price: Price) -> None:
        """Price ``model`` at ``price`` from now on, as a config entry would."""
        self._overrides[model] = price
        self._config_cache.clear()

    def resolve(self, model: str, ts: float) -> ResolvedPrice:
        """The price of ``model`` at Unix time ``ts``, and its source."""
        try:
            price = self._config_cache[model]
        except KeyError:
            price = _match(self._overrides, model)
            if len(self._config_cache) < 10_000:
                self._config_cache[model] = price
        if price is not None:
            return ResolvedPrice(price, SOURCE_CONFIG)
        if self._database is None:
            return ResolvedPrice(None, SOURCE_NONE)
        return self._database(model, ts)

    def lookup(self, model: str, ts: float) -> Price | None:
        """The price of ``model`` at ``ts``, or ``None`` when it has none."""
        return self.resolve(model, ts).price

    def cost(
        self,
        model: str,
        ts: float,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float | None:
        """USD cost of the tokens at ``ts``, or ``None`` when the model has no price."""
        price = self.lookup(model, ts)
        if price is None:
            return None
        return usd_of(
            price.cost_femto(input_tokens, output_tokens, cache_read_tokens, cache_write_tokens)
        )


__all__ = [
    "PRICE_SOURCES",
    "REPORTED_SOURCES",
    "SOURCE_CONFIG",
    "SOURCE_DATABASE",
    "SOURCE_INSTRUMENTATION",
    "SOURCE_NONE",
    "SOURCE_PROVIDER",
    "Price",
    "PriceDatabase",
    "PriceTable",
    "Rates",
    "ResolvedPrice",
]
