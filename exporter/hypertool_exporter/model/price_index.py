"""genai-prices' own answers for the model names its data spells out, shipped
with the package, so that pricing a model does not load genai-prices.

Loading genai-prices takes about 0.4 s and 17 MiB (its data is 1.6 MB of
Python that builds Pydantic models); ``serve`` loaded it before it listened,
so an idle exporter held twice a prometheus_client process's memory. This
index holds, for every name genai-prices' data writes out (each model's id
and the literal strings of its match rules), what genai-prices itself
answers for that name: the provider, and the price when it holds at every
moment (a model whose price changes with the date or the time of day is left
out). It is written from the installed genai-prices (``python -m
hypertool_exporter.model.price_database``, checked by a test) together with
the SHA-256 of genai-prices' data file, and used only while the installed
data file has that digest: with any other genai-prices, and for every name
the index does not hold, genai-prices is asked as before. So an answer from
the index is always the one genai-prices would give.

Read on first use (about 10 ms: the JSON and the digest of the data file).
Stdlib only at import.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Iterable
from datetime import UTC, date, datetime
from importlib.util import find_spec
from typing import Any

from .pricing import Price

#: The index, beside this module (package data).
INDEX_PATH = os.path.join(os.path.dirname(__file__), "price_index.json")
#: genai-prices' data file, whose digest the index was written from.
DATA_MODULE = "data.py"

#: name -> (provider id as genai-prices gives it, price or None), once read.
_models: dict[str, tuple[str, Price | None]] | None = None
#: The start dates of every dated price change in the data.
_changes: list[str] = []


def lookup(model: str) -> tuple[str, Price | None] | None:
    """(provider id, price or ``None`` for a model that prices no tokens) of
    ``model`` as genai-prices answers it, or ``None`` when the index does not
    hold the name or does not match the installed genai-prices."""
    models = _models if _models is not None else _read()
    return models.get(model.lower())


def newest_change(today: date) -> float:
    """Unix time of the newest dated price change in the data, not after
    ``today`` (what ``price_database.data_timestamp`` gives for the bundled
    data)."""
    if _models is None:
        _read()
    return newest_of(_changes, today)


def newest_of(dates: Iterable[str], today: date) -> float:
    """Unix time of the newest of ``dates`` (ISO) not after ``today``: the age
    of price data, by its newest price change already in force."""
    newest = max((d for d in dates if d <= today.isoformat()), default="1970-01-01")
    day = date.fromisoformat(newest)
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _read() -> dict[str, tuple[str, Price | None]]:
    global _models
    models: dict[str, tuple[str, Price | None]] = {}
    try:
        with open(INDEX_PATH, encoding="utf-8") as handle:
            index = json.load(handle)
        if index.get("data_sha256") == data_digest():
            entries = index["models"].items()
            models = {name: (provider, _price(price)) for name, (provider, price) in entries}
            _changes[:] = index["changes"]
    except (OSError, ValueError, KeyError, TypeError):
        models = {}  # no index, or not ours: genai-prices answers everything
    _models = models
    return models


def data_digest() -> str | None:
    """SHA-256 of the installed genai-prices' data file, found without
    importing genai-prices (``None`` when it is not installed)."""
    spec = find_spec("genai_prices") if "genai_prices" not in sys.modules else None
    locations = (
        spec.submodule_search_locations
        if spec is not None
        else getattr(sys.modules.get("genai_prices"), "__path__", None)
    )
    if not locations:
        return None
    try:
        with open(os.path.join(next(iter(locations)), DATA_MODULE), "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


def entry(provider: str, price: Price | None) -> list[Any]:
    """The index's entry for a model genai-prices answers with ``provider``
    and ``price`` (``_price`` reads its price back)."""
    if price is None:
        return [provider, None]
    tiers = [[start, _rates(tier)] for start, tier in price.tiers]
    return [provider, [_rates(price), tiers]]


def _rates(price: Price) -> list[float | None]:
    return [price.input, price.output, price.cache_read, price.cache_write]


def _price(value: Any) -> Price | None:
    """The price of an index entry (``entry``'s second item)."""
    if value is None:
        return None
    (input_rate, output, cache_read, cache_write), tiers = value
    return Price(
        input_rate,
        output,
        cache_read,
        cache_write,
        tuple((start, Price(*tier)) for start, tier in tiers),
    )


__all__ = ["INDEX_PATH", "data_digest", "entry", "lookup", "newest_change", "newest_of"]
