"""The fold's cost per token event when prices come from genai-prices, against
the same fold with the model priced in the config (a plain table lookup).

Prices are resolved once per model and half-hour slot and cached as float
rates, so the database should cost the fold almost nothing; this measures it.
Rounds are interleaved so machine noise hits both alike.
"""

from __future__ import annotations

import gc
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
        )
    ]
