"""genai-prices as the price database: a model's price at a moment, as float rates.

genai-prices (Pydantic's maintained database of providers, models, cache and
tiered prices, and prices that change over time) answers with Decimal prices
per million tokens through a model lookup that takes tens of microseconds.
The fold prices every token event, so this adapter resolves a model once per
half-hour slot (the finest granularity of the database's time-of-day prices)
and hands back float rates per 1,000 tokens that ``pricing.Price.cost``
applies. Until genai-prices is loaded, a model the shipped index holds
(``price_index``: genai-prices' own answers for the names its data spells
out) is answered from there; any other name loads genai-prices (about
0.4 s, once), and from then on genai-prices answers everything, a snapshot
fetched at run time included.

The age of the data: genai-prices does not record when its bundled data was
built, so the newest price change it holds that is not in the future stands
for it (a database that has seen no price change for months is stale); a
snapshot fetched at run time (``genai_prices.UpdatePrices``) is dated by its
fetch.
"""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # genai-prices' type, imported with it (an idle exporter has neither)
    from decimal import Decimal

from . import price_index
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
    indexed = _indexed(model)
    if indexed is not None:
        return CONVENTION_PROVIDERS.get(indexed[0], indexed[0])
    from genai_prices import data_snapshot

    try:
        provider, _ = data_snapshot.get_snapshot().find_provider_model(model, None, None, None)
    except LookupError:
        return "unknown"
    return CONVENTION_PROVIDERS.get(provider.id, provider.id)


def load() -> None:
    """Load genai-prices now (about 0.4 s), for a caller that would rather
    wait now than at its first model the index does not hold."""
    from genai_prices import data_snapshot

    data_snapshot.get_snapshot()


def _indexed(model: str) -> tuple[str, Price | None] | None:
    """The index's answer for ``model``, while genai-prices is not loaded (once
    it is, it answers: its data may have been fetched since)."""
    if "genai_prices" in sys.modules:
        return None
    return price_index.lookup(model)


def _resolve(model: str, start: float) -> ResolvedPrice:
    end = start + SLOT_SECONDS
    indexed = _indexed(model)
    if indexed is not None:  # a price that holds at every moment
        price = indexed[1]
        if price is None:
            return ResolvedPrice(None, SOURCE_NONE, start, end)
        newest = price_index.newest_change(datetime.now(UTC).date())
        return ResolvedPrice(price, SOURCE_DATABASE, start, end, newest)
    from genai_prices import data_snapshot

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
    from decimal import Decimal

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
    from decimal import Decimal

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

    dates = _change_dates(data_snapshot.get_snapshot())
    found = price_index.newest_of(dates, datetime.now(UTC).date())
    _newest[snapshot_id] = found
    return found


def _change_dates(snapshot: Any) -> list[str]:
    """The start dates (ISO) of every dated price change in ``snapshot``."""
    return sorted(
        {
            start.isoformat()
            for provider in snapshot.providers
            for model in provider.models
            if isinstance(model.prices, list)
            for conditional in model.prices
            if (start := getattr(conditional.constraint, "start_date", None)) is not None
        }
    )


def data_version() -> str:
    """The installed genai-prices version."""
    from genai_prices import __version__

    return __version__


def _literals(clause: Any) -> list[str]:
    """The literal strings of a genai-prices match clause tree."""
    found: list[str] = []
    for name in ("equals", "starts_with", "ends_with", "contains"):
        text = getattr(clause, name, None)
        if isinstance(text, str):
            found.append(text)
    for name in ("or_", "and_"):
        for part in getattr(clause, name, None) or ():
            found.extend(_literals(part))
    return found


def build_index() -> dict[str, Any]:
    """``price_index``'s index of the installed genai-prices."""
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    names = sorted(
        {
            name.lower()
            for provider in snapshot.providers
            for model in provider.models
            for name in (model.id, *_literals(model.match))
        }
    )
    models: dict[str, Any] = {}
    for name in names:
        try:
            provider, info = snapshot.find_provider_model(name, None, None, None)
        except LookupError:
            continue
        if isinstance(info.prices, list):  # changes with the date or the time of day
            continue
        models[name] = price_index.entry(provider.id, to_price(info.prices))
    changes = _change_dates(snapshot)
    return {"data_sha256": price_index.data_digest(), "changes": changes, "models": models}


def write_index() -> str:
    """Write ``price_index``'s index of the installed genai-prices (package data)."""
    with open(price_index.INDEX_PATH, "w", encoding="utf-8") as handle:
        json.dump(build_index(), handle, separators=(",", ":"), sort_keys=True)
        handle.write("\n")
    return price_index.INDEX_PATH


__all__ = [
    "CONVENTION_PROVIDERS",
    "SLOT_SECONDS",
    "build_index",
    "data_timestamp",
    "data_version",
    "genai_prices_lookup",
    "load",
    "provider_name",
    "to_price",
    "write_index",
]

if __name__ == "__main__":
    print(write_index())
