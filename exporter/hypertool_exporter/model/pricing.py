"""Token prices, in US dollars per 1,000 tokens, and the cost of a call.

The defaults are public list prices of common models; teams with negotiated
prices override them in the config file (``pricing:``), entry by entry.
A model is matched exactly, else by its longest priced prefix followed by a
separator, so dated snapshots (``gpt-4o-2024-08-06``) are priced like their
base model without listing every variant.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Price:
    """USD per 1,000 input tokens and per 1,000 output tokens."""

    input: float
    output: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """USD cost of the tokens at this price: the one formula, used by the
        fold and by ``stats``."""
        return (input_tokens * self.input + output_tokens * self.output) / 1000.0


#: List prices (USD per 1K tokens) of common models. Override in the config.
DEFAULT_PRICES: dict[str, Price] = {
    "gpt-4": Price(0.03, 0.06),
    "gpt-4-turbo": Price(0.01, 0.03),
    "gpt-4o": Price(0.0025, 0.01),
    "gpt-4o-mini": Price(0.00015, 0.0006),
    "gpt-4.1": Price(0.002, 0.008),
    "gpt-4.1-mini": Price(0.0004, 0.0016),
    "gpt-4.1-nano": Price(0.0001, 0.0004),
    "gpt-3.5-turbo": Price(0.0005, 0.0015),
    "o3": Price(0.002, 0.008),
    "o4-mini": Price(0.0011, 0.0044),
    "claude-opus-4": Price(0.015, 0.075),
    "claude-sonnet-4": Price(0.003, 0.015),
    "claude-3-7-sonnet": Price(0.003, 0.015),
    "claude-3-5-sonnet": Price(0.003, 0.015),
    "claude-3-5-haiku": Price(0.0008, 0.004),
    "claude-3-opus": Price(0.015, 0.075),
    "claude-3-haiku": Price(0.00025, 0.00125),
    "gemini-2.5-pro": Price(0.00125, 0.01),
    "gemini-2.5-flash": Price(0.0003, 0.0025),
    "gemini-1.5-pro": Price(0.00125, 0.005),
    "gemini-1.5-flash": Price(0.000075, 0.0003),
}

_SEPARATORS = "-:@/."


class PriceTable:
    """Looks up prices with exact and prefix matching, caching each answer."""

    def __init__(self, prices: dict[str, Price] | None = None):
        self._prices = dict(DEFAULT_PRICES if prices is None else prices)
        self._cache: dict[str, Price | None] = {}

    @classmethod
    def with_overrides(cls, overrides: dict[str, Price]) -> PriceTable:
        """Default prices with the config's entries added or replaced."""
        return cls({**DEFAULT_PRICES, **overrides})

    def models(self) -> dict[str, Price]:
        """Every priced model and its price."""
        return dict(self._prices)

    def lookup(self, model: str) -> Price | None:
        """The model's price (exact, else longest priced prefix), or ``None``."""
        try:
            return self._cache[model]
        except KeyError:
            pass
        price = self._prices.get(model)
        if price is None:
            best = ""
            for name in self._prices:
                if (
                    len(name) > len(best)
                    and model.startswith(name)
                    and model[len(name)] in _SEPARATORS
                ):
                    best = name
            price = self._prices[best] if best else None
        if len(self._cache) < 10_000:
            self._cache[model] = price
        return price

    def cost(self, model: str, input_tokens: int, output_tokens: int) -> float | None:
        """USD cost of the tokens, or ``None`` when the model has no price."""
        price = self.lookup(model)
        return None if price is None else price.cost(input_tokens, output_tokens)


__all__ = ["DEFAULT_PRICES", "Price", "PriceTable"]
