"""The fold's cost per token event when prices come from genai-prices, against
the same fold with the model priced in the config (a plain table lookup).

Prices are resolved once per model and half-hour slot and cached as float
rates, so the database should cost the fold almost nothing; this measures it.
Rounds are interleaved so machine noise hits both alike.

Also the first priced event of a fresh process: the fold of one token event
of a model genai-prices' data names (answered from the shipped
``price_index``, genai-prices not loaded) against the same with the model
priced in the config; goal: at most 50 ms more. And, for the record, the
same for a model only genai-prices itself can answer (it loads then).
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import sys
import time

from common import Result

from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.events import TokensUsed

CONFIG = """
budgets:
  default: {tokens: 1000000000, period: monthly}
pricing:
  gpt-4: {input: 0.03, output: 0.06}
"""
TARGET = 1.10
#: Milliseconds the first priced event may take beyond a config-priced one.
FIRST_EVENT_MS = 50.0

#: A fresh process folding its first token event of ``sys.argv[1]``: milliseconds.
FIRST_EVENT = """
import sys, time
from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.events import TokensUsed
state = MetricState(parse_config("pricing: {gpt-4: {input: 0.03, output: 0.06}}"))
event = TokensUsed("backend-engineer", sys.argv[1], 600, 250, "implement", time.time())
start = time.perf_counter()
state.apply(event)
print((time.perf_counter() - start) * 1000)
"""


def _first_event_ms(model: str) -> float:
    done = subprocess.run(
        [sys.executable, "-c", FIRST_EVENT, model], capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def first_event(quick: bool) -> list[Result]:
    """Medians of interleaved fresh processes."""
    runs: dict[str, list[float]] = {"gpt-4o": [], "gpt-4": [], "gpt-4o-20990101": []}
    for _ in range(3 if quick else 7):
        for model, times in runs.items():
            times.append(_first_event_ms(model))
    indexed, config, unindexed = (statistics.median(t) for t in runs.values())
    return [
        Result(
            "first priced event of a process: indexed model vs config-priced",
            indexed,
            config,
            "ms",
            f"<= +{FIRST_EVENT_MS:g} ms",
            indexed - config <= FIRST_EVENT_MS,
        ),
        Result(
            "first priced event: a name only genai-prices answers (it loads) vs config-priced",
            unindexed,
            config,
            "ms",
            "(reported)",
            None,
        ),
    ]


def _fold_seconds(state: MetricState, model: str, events: int, now: float) -> float:
    batch = [
        TokensUsed("backend-engineer", model, 600, 250, "implement", now + i * 0.001)
        for i in range(events)
    ]
    start = time.perf_counter()
    state.apply_all(batch)
    return (time.perf_counter() - start) / events


def run(quick: bool = False) -> list[Result]:
    events = 20_000
    state = MetricState(parse_config(CONFIG))
    now = time.time()
    state.apply(TokensUsed("backend-engineer", "gpt-4o", 1, 1, "implement", now))  # warm
    state.apply(TokensUsed("backend-engineer", "gpt-4", 1, 1, "implement", now))
    library = config = float("inf")
    gc.disable()
    try:
        for _ in range(5 if quick else 15):
            library = min(library, _fold_seconds(state, "gpt-4o", events, now))
            config = min(config, _fold_seconds(state, "gpt-4", events, now))
    finally:
        gc.enable()
    return [
        Result(
            "fold per token event: genai-prices price vs config price",
            library * 1e6,
            config * 1e6,
            "us",
            f"<= {TARGET:.2f}x",
            library <= TARGET * config,
        ),
        *first_event(quick),
    ]
