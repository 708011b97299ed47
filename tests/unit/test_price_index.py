"""The shipped price index: a model genai-prices' data names is priced without
loading genai-prices, exactly as genai-prices prices it; any other name, or
another genai-prices, loads genai-prices as before."""

import json
import subprocess
import sys
from typing import Any

#: A fresh process's start: ``sys.argv[1]`` is ``index``, or ``other-data``
#: for an index written from another genai-prices (so genai-prices answers).
START = """
import json, sys, time
from hypertool_exporter.model import price_database, price_index
if sys.argv[1] == "other-data":
    price_index.data_digest = lambda: "0" * 64
"""

PROBE = (
    START
    + """
answers = {}
for model in sys.argv[2:]:
    resolved = price_database.genai_prices_lookup(model, time.time())
    price = resolved.price
    answers[model] = {
        "price": None if price is None else [price.input, price.output, price.cache_read,
                                             price.cache_write, len(price.tiers)],
        "source": resolved.source,
        "provider": price_database.provider_name(model),
        "loaded": "genai_prices" in sys.modules,
    }
print(json.dumps(answers))
"""
)


def run(probe: str, mode: str, *args: str) -> Any:
    """What a fresh process running ``probe`` prints, as JSON."""
    out = subprocess.run(
        [sys.executable, "-c", probe, mode, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def ask(mode: str, *models: str) -> dict:
    return run(PROBE, mode, *models)


MODELS = ("gpt-4o", "claude-sonnet-4", "gpt-4o-2024-08-06", "gemini-2.5-pro")


def test_indexed_models_are_priced_as_genai_prices_prices_them_without_loading_it():
    from_index = ask("index", *MODELS)
    from_genai_prices = ask("other-data", *MODELS)  # the index unused: genai-prices answers
    for model in MODELS:
        ours, theirs = from_index[model], from_genai_prices[model]
        assert not ours["loaded"], model
        assert theirs["loaded"], model
        assert (ours["price"], ours["source"], ours["provider"]) == (
            theirs["price"],
            theirs["source"],
            theirs["provider"],
        ), model
    assert from_index["gpt-4o"]["price"][:2] == [0.0025, 0.01]
    assert from_index["claude-sonnet-4"]["provider"] == "anthropic"


def test_a_name_the_index_does_not_hold_loads_genai_prices_and_gets_its_answer():
    answers = ask("index", "gpt-4o", "not-a-model-anyone-sells", "gpt-4o")
    unknown = answers["not-a-model-anyone-sells"]
    assert unknown["loaded"] and unknown["price"] is None and unknown["source"] == "none"
    assert unknown["provider"] == "unknown"
    # Loaded once, genai-prices answers from then on (the same price).
    assert answers["gpt-4o"]["price"][:2] == [0.0025, 0.01]


def test_the_index_dates_its_data_as_genai_prices_does():
    """``hypertool_price_data_timestamp_seconds`` and the price info's date
    are the same whichever of the two answered."""
    probe = (
        START
        + """
resolved = price_database.genai_prices_lookup("gpt-4o", time.time())
print(json.dumps(resolved.data_timestamp))
"""
    )
    assert run(probe, "index") == run(probe, "other-data") > 1.6e9
