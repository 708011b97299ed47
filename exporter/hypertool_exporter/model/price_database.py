"""genai-prices as the price database: a model's price at a moment, as float rates.

genai-prices (Pydantic's maintained database of providers, models, cache and
tiered prices, and prices that change over time) answers with Decimal prices
per million tokens through a model lookup that takes tens of microseconds.
The fold prices every token event, so this adapter resolves a model once per
half-hour slot (the finest granularity of the database's time-of-day prices)
and hands back float rates per 1,000 tokens that ``pricing.Price.cost``
applies. genai-prices is imported on first use, or by ``load``.

The age of the data: genai-prices does not record when its bundled data was
built, so the newest price change it holds that is not in the future stands
for it (a database that has seen no price change for months is stale); a
snapshot fetched at run time (``genai_prices.UpdatePrices``) is dated by its
fetch.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from .pricing import SOURCE_DATABASE, SOURCE_NONE, Price, ResolvedPrice

#: Seconds per cached slot: time-of-day prices change on the half hour.
SLOT_SECONDS = 1800
#: Cached (model, slot) answers before the cache starts over.
MAX_CACHED = 20_000
#: The price keys read, per million tokens, and the ``Price`` field each fills.
_KEYS = {
    "input_mtok": "input",
    "output_mtok": "output",
    "cache_read_mtok": "cache_read",
    "cache_write_mtok": "cache_write",
}

_cache: dict[tuple[str, int], ResolvedPrice] = {}
_lock = threading.Lock()


def genai_prices_lookup(model: str, ts: float) -> ResolvedPrice:
    """``model``'s price in effect at Unix time ``ts`` (a ``pricing.PriceDatabase``)."""
    slot = int(ts // SLOT_SECONDS)
    key = (model, slot)
    found = _cache.get(key)
    if found is None:
        found = _resolve(model, float(slot * SLOT_SECONDS))
        with _lock:
            if len(_cache) >= MAX_CACHED:
                _cache.clear()
            _cache[key] = found
    return found


#: genai-prices' provider ids that the OpenTelemetry conventions name otherwise
#: (``gen_ai.provider.name``); the rest are the same or have no convention name.
CONVENTION_PROVIDERS = {
    "google": "gcp.gemini",
    "aws": "aws.bedrock",
    "azure": "azure.ai.openai",
    "mistral": "mistral_ai",
    "x-ai": "x_ai",
}


def provider_name(model: str) -> str:
    """The provider that serves ``model``, as ``gen_ai.provider.name`` names it,
    by genai-prices' model matching; ``unknown`` for a model it does not know."""
    from genai_prices import data_snapshot

    try:
        provider, _ = data_snapshot.get_snapshot().find_provider_model(model, None, None, None)
    except LookupError:
        return "unknown"
    return CONVENTION_PROVIDERS.get(provider.id, provider.id)


def load() -> None:
    """Load the database now (about 0.2 s): ``serve`` does before it listens,
    so that its first token event is not the one that waits."""
    from genai_prices import data_snapshot

    data_snapshot.get_snapshot()


def _resolve(model: str, start: float) -> ResolvedPrice:
    from genai_prices import data_snapshot

    end = start + SLOT_SECONDS
    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(model, None, None, None)
    except LookupError:
        return ResolvedPrice(None, SOURCE_NONE, start, end)
    price = to_price(info.get_prices(datetime.fromtimestamp(start, UTC)))
    if price is None:
        return ResolvedPrice(None, SOURCE_NONE, start, end)
    return ResolvedPrice(price, SOURCE_DATABASE, start, end, data_timestamp())


def _per_thousand(value: Decimal) -> float:
    return float(value / 1000)


def _rates_at(model_price: Any, tier_start: int | None) -> dict[str, float | None]:
    """Each key's rate per 1,000 tokens for requests above ``tier_start`` input
    tokens (``None``: the base rates)."""
    rates: dict[str, float | None] = {}
    for key, field in _KEYS.items():
        value = getattr(model_price, key, None)
        if value is None:
            rates[field] = None
            continue
        if not isinstance(value, Decimal):  # TieredPrices
            chosen = value.base
            if tier_start is not None:
                for tier in value.tiers:
                    if tier.start <= tier_start:
                        chosen = tier.price
            value = chosen
        rates[field] = _per_thousand(value)
    return rates


def _price(rates: dict[str, float | None], tiers: tuple[Any, ...] = ()) -> Price:
    return Price(
        input=rates["input"] or 0.0,
        output=rates["output"] or 0.0,
        cache_read=rates["cache_read"],
        cache_write=rates["cache_write"],
        tiers=tiers,
    )


def to_price(model_price: Any) -> Price | None:
    """A genai-prices ``ModelPrice`` as a ``Price``; ``None`` when it prices no
    tokens (a model billed per image or per request)."""
    base = _rates_at(model_price, None)
    if base["input"] is None and base["output"] is None:
        return None
    thresholds = sorted(
        {
            tier.start
            for key in _KEYS
            if (value := getattr(model_price, key, None)) is not None
            and not isinstance(value, Decimal)
            for tier in value.tiers
        }
    )
    tiers = tuple((start, _price(_rates_at(model_price, start))) for start in thresholds)
    return _price(base, tiers)


def data_timestamp() -> float:
    """Unix time that stands for the age of the price data (see the module doc)."""
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    if snapshot.from_auto_update:
        return snapshot.timestamp.replace(tzinfo=snapshot.timestamp.tzinfo or UTC).timestamp()
    return _newest_price_change(id(snapshot))


_newest: dict[int, float] = {}


def _newest_price_change(snapshot_id: int) -> float:
    """The newest start date of a price in the bundled data, not in the future."""
    found = _newest.get(snapshot_id)
    if found is not None:
        return found
    from genai_prices import data_snapshot

    today = datetime.now(UTC).date()
    newest = date(1970, 1, 1)
    for provider in data_snapshot.get_snapshot().providers:
        for model in provider.models:
            conditions = model.prices if isinstance(model.prices, list) else []
            for conditional in conditions:
                start = getattr(conditional.constraint, "start_date", None)
                if start is not None and newest < start <= today:
                    newest = start
    found = datetime(newest.year, newest.month, newest.day, tzinfo=UTC).timestamp()
    _newest[snapshot_id] = found
    return found


def data_version() -> str:
    """The installed genai-prices version."""
    from genai_prices import __version__

    return __version__


__all__ = [
    "CONVENTION_PROVIDERS",
    "SLOT_SECONDS",
    "data_timestamp",
    "data_version",
    "genai_prices_lookup",
    "load",
    "provider_name",
    "to_price",
]
