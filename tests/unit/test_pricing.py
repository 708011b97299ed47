"""Costs that match the bill: known answers worked out by hand from the providers'
published per-million-token prices, checked through the fold itself."""

from datetime import UTC, datetime

import pytest

from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.events import TokensUsed
from hypertool_exporter.model.money import usd_of
from hypertool_exporter.model.pricing import SOURCE_CONFIG, Price, PriceTable

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC).timestamp()
P = "backend-engineer"


def cost_of(state: MetricState, model: str, chatmode: str = "default") -> float:
    return state.view().counters[c.PERSONA_COST.name][(P, chatmode, model)]


def fold(*events: TokensUsed, config: str = "") -> MetricState:
    state = MetricState(parse_config(config))
    for event in events:
        state.apply(event)
    return state


def test_openai_cached_prompt_tokens_are_part_of_the_prompt_and_cheaper():
    # openai.com/api/pricing, gpt-4o: $2.50 / 1M input, $1.25 / 1M cached input,
    # $10.00 / 1M output. 10,000 prompt tokens of which 8,000 cached, 500 out:
    # 2,000 x 2.50 + 8,000 x 1.25 + 500 x 10.00 = 20,000 / 1M = $0.02.
    state = fold(TokensUsed(P, "gpt-4o", 10_000, 500, ts=NOW, cache_read_tokens=8_000))
    assert cost_of(state, "gpt-4o") == pytest.approx(0.02, abs=1e-12)
    tokens = state.view().counters[c.PERSONA_TOKENS.name]
    assert tokens[(P, "default", "gpt-4o", "input")] == 2_000
    assert tokens[(P, "default", "gpt-4o", "cache_read")] == 8_000
    assert tokens[(P, "default", "gpt-4o", "output")] == 500
    assert state.to_json()["budgets"] == {}  # no budget configured: nothing to charge


def test_anthropic_cache_writes_and_reads():
    # anthropic.com/pricing, Claude Sonnet 4: $3 / MTok input, $3.75 / MTok cache
    # writes (5 min), $0.30 / MTok cache hits, $15 / MTok output. Anthropic reports
    # input_tokens=1,000 outside the cache, so the prompt is 1,000 + 2,000 written
    # + 10,000 read = 13,000 tokens, and 800 are output:
    # 1,000 x 3 + 2,000 x 3.75 + 10,000 x 0.30 + 800 x 15 = 25,500 / 1M = $0.0255.
    model = "claude-sonnet-4-20250514"
    event = TokensUsed(
        P, model, 13_000, 800, ts=NOW, cache_write_tokens=2_000, cache_read_tokens=10_000
    )
    state = fold(event, config="budgets:\n  default: {tokens: 100000, period: monthly}\n")
    assert cost_of(state, model) == pytest.approx(0.0255, abs=1e-12)
    assert state.view(NOW).standing_of(P).tokens_used == 13_800  # every billable token, once


def test_reasoning_tokens_are_output_tokens():
    # openai.com/api/pricing, o3 (since 2025-06-10): $2 / 1M input, $8 / 1M output,
    # reasoning billed as output. 1,000 in, 3,000 out of which 2,500 reasoning:
    # 1,000 x 2 + 3,000 x 8 = 26,000 / 1M = $0.026.
    state = fold(TokensUsed(P, "o3", 1_000, 3_000, ts=NOW, reasoning_tokens=2_500))
    assert cost_of(state, "o3") == pytest.approx(0.026, abs=1e-12)
    tokens = state.view().counters[c.PERSONA_TOKENS.name]
    assert tokens[(P, "default", "o3", "output")] == 500
    assert tokens[(P, "default", "o3", "reasoning")] == 2_500


def test_an_event_is_priced_at_its_own_time():
    # o3 launched at $10 / $40 per 1M tokens and was cut to $2 / $8 on 2025-06-10
    # (openai.com/index/o3-o4-mini pricing update). 1,000 in, 1,000 out:
    # before: 10,000 + 40,000 = $0.05; after: 2,000 + 8,000 = $0.01.
    before = datetime(2025, 5, 1, 12, tzinfo=UTC).timestamp()
    state = fold(
        TokensUsed(P, "o3", 1_000, 1_000, chatmode="may", ts=before),
        TokensUsed(P, "o3", 1_000, 1_000, chatmode="nov", ts=NOW),
    )
    assert cost_of(state, "o3", "may") == pytest.approx(0.05, abs=1e-12)
    assert cost_of(state, "o3", "nov") == pytest.approx(0.01, abs=1e-12)


def test_long_context_tier_prices_the_whole_request():
    # ai.google.dev/pricing, Gemini 2.5 Pro: $1.25 / $10 per 1M tokens for prompts up
    # to 200k tokens, $2.50 / $15 above. 250,000 in, 1,000 out: 625,000 + 15,000 =
    # $0.64; 100,000 in, 1,000 out: 125,000 + 10,000 = $0.135.
    state = fold(
        TokensUsed(P, "gemini-2.5-pro", 250_000, 1_000, chatmode="long", ts=NOW),
        TokensUsed(P, "gemini-2.5-pro", 100_000, 1_000, chatmode="short", ts=NOW),
    )
    assert cost_of(state, "gemini-2.5-pro", "long") == pytest.approx(0.64, abs=1e-12)
    assert cost_of(state, "gemini-2.5-pro", "short") == pytest.approx(0.135, abs=1e-12)


def test_a_config_price_beats_the_database():
    # Config: $0.005 / 1K in, $0.015 / 1K out (a negotiated price); genai-prices
    # would say $0.0125 for the same 1,000 + 1,000 tokens.
    config = "pricing:\n  gpt-4o: {input: 0.005, output: 0.015, cache_read: 0.001}\n"
    state = fold(
        TokensUsed(P, "gpt-4o-2024-08-06", 1_000, 1_000, ts=NOW, cache_read_tokens=500),
        config=config,
    )
    # 500 x 0.005 + 500 x 0.001 + 1,000 x 0.015 = 2.5 + 0.5 + 15 = 18 / 1K = $0.018
    assert cost_of(state, "gpt-4o-2024-08-06") == pytest.approx(0.018, abs=1e-12)
    resolved = state.prices.resolve("gpt-4o-2024-08-06", NOW)
    assert resolved.source == SOURCE_CONFIG
    # A dated snapshot takes its base model's entry; another model does not.
    for other in ("gpt-4o-mini", "gpt-4o-mini-2024-07-18", "gpt-4o.1"):
        assert state.prices.resolve(other, NOW).source != SOURCE_CONFIG, other


def test_an_unknown_model_is_unpriced_not_free():
    state = fold(TokensUsed(P, "local-llama-3", 10, 5, ts=NOW))
    assert cost_of(state, "local-llama-3") == 0.0
    assert state.view().counters[c.PERSONA_UNPRICED_TOKENS.name] == {(P, "local-llama-3"): 15}


def test_a_provider_reported_cost_is_used_and_kept_apart():
    # OpenRouter reported $0.0042 for the call; an estimate would differ.
    state = fold(
        TokensUsed(P, "local-llama-3", 1_000, 100, ts=NOW, cost_usd=0.0042),
        TokensUsed(P, "gpt-4o", 1_000, 100, ts=NOW),
    )
    assert cost_of(state, "local-llama-3") == pytest.approx(0.0042)
    reported = state.view().counters[c.PERSONA_REPORTED_COST.name]
    assert reported == {(P, "default", "local-llama-3", "provider"): pytest.approx(0.0042)}
    assert (
        c.PERSONA_UNPRICED_TOKENS.name not in state.view().counters
        or not state.view().counters[c.PERSONA_UNPRICED_TOKENS.name]
    )


def test_tiers_pick_the_price_by_the_request_input():
    base = Price(0.001, 0.002, tiers=((100, Price(0.01, 0.02)),))
    assert usd_of(base.cost_femto(100, 0)) == pytest.approx(0.1 / 1000 * 1)  # at the threshold
    assert usd_of(base.cost_femto(101, 0)) == pytest.approx(101 * 0.01 / 1000)
    assert usd_of(base.cost_femto(101, 0, tier_input_tokens=0)) == pytest.approx(101 * 0.001 / 1000)


def test_without_a_database_only_overrides_price():
    table = PriceTable({"gpt-4": Price(0.03, 0.06)})
    assert table.cost("gpt-4", NOW, 600, 250) == pytest.approx(0.033)
    assert table.cost("gpt-4o", NOW, 600, 250) is None
