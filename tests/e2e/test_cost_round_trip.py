"""The same call recorded through every input path costs the same, to the cent."""

import pytest
from harness.support import ExporterProcess, post_events, run_cli, sample, wait_for

from hypertool_exporter import PersonaMetricsCollector

TOKEN = "round-trip-ingest-token-0123456789"
PERSONA = "backend-engineer"
# A cached gpt-4o prompt: 2,000 x $2.50 + 8,000 x $1.25 + 500 x $10.00 per 1M
# tokens (openai.com/api/pricing) = $0.02; and an Anthropic call with cache
# writes and reads: 1,000 x $3 + 2,000 x $3.75 + 10,000 x $0.30 + 800 x $15 per
# 1M (anthropic.com/pricing) = $0.0255; and a call whose provider reported $0.5.
CALLS = (
    ("gpt-4o", 10_000, 500, {"cache_read_tokens": 8_000}, 0.02),
    (
        "claude-sonnet-4-20250514",
        13_000,
        800,
        {"cache_write_tokens": 2_000, "cache_read_tokens": 10_000},
        0.0255,
    ),
    ("routed-model", 100, 90, {"reasoning_tokens": 40, "cost_usd": 0.5}, 0.5),
)
FLAGS = {
    "cache_read_tokens": "--cache-read",
    "cache_write_tokens": "--cache-write",
    "reasoning_tokens": "--reasoning",
    "cost_usd": "--cost-usd",
}


def test_cli_ingest_and_api_give_the_same_cost(tmp_path):
    journal = tmp_path / "journal.sqlite"
    exporter = ExporterProcess(journal, env={"HYPERTOOL_INGEST_TOKEN": TOKEN})
    collector = PersonaMetricsCollector(journal=journal)
    try:
        for model, inp, out, extra, _ in CALLS:
            flags = [f for key, value in extra.items() for f in (FLAGS[key], str(value))]
            run_cli(
                "tokens",
                PERSONA,
                "--model",
                model,
                "--input",
                str(inp),
                "--output",
                str(out),
                "--chatmode",
                "cli",
                *flags,
                "--journal",
                str(journal),
            )
            status, answer = post_events(
                exporter.port,
                {
                    "type": "tokens_used",
                    "persona": PERSONA,
                    "model": model,
                    "input_tokens": inp,
                    "output_tokens": out,
                    "chatmode": "ingest",
                    **extra,
                },
                TOKEN,
            )
            assert status == 202, answer
            collector.record_token_usage(PERSONA, "api", model, inp, out, **extra)

        def applied():
            values = exporter.scrape()
            done = sample(
                values, "hypertool_exporter_events_applied_total", type="tokens_used"
            ) == 3 * len(CALLS)
            return values if done else None

        values = wait_for(applied, what="every path's events to be applied")
    finally:
        collector.close()
        exporter.stop()
    for model, _, _, extra, expected in CALLS:
        costs = [
            sample(
                values,
                "hypertool_persona_cost_usd_total",
                persona=PERSONA,
                chatmode=path,
                model=model,
            )
            for path in ("cli", "ingest", "api")
        ]
        assert costs == [pytest.approx(expected, abs=1e-9)] * 3, (model, costs)
        assert len({round(cost, 2) for cost in costs}) == 1
        reported = sample(
            values,
            "hypertool_persona_reported_cost_usd_total",
            persona=PERSONA,
            chatmode="cli",
            model=model,
            source="provider",
        )
        assert reported == (expected if "cost_usd" in extra else None)
    source = {
        labels: value
        for (name, labels), value in values.items()
        if name == "hypertool_model_price_info"
    }
    assert any(
        ("source", "genai-prices") in labels and ("model", "gpt-4o") in labels for labels in source
    )
    assert any(
        ("source", "none") in labels and ("model", "routed-model") in labels for labels in source
    )
