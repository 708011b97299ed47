"""LLM Cost and Budgets: spend by persona and model, tokens, and budgets against
their limits."""

from __future__ import annotations

from ...model import catalog as c
from ..config import BundleConfig
from ..grafana import (
    GREEN,
    JOB,
    MODEL,
    PERSONA,
    RANGE,
    RATE,
    RED,
    YELLOW,
    DashboardSpec,
    PanelSpec,
    Query,
    steps,
)
from ..rules import FLEET_LIMIT, FLEET_REMAINING, FLEET_USED


def dashboard(config: BundleConfig) -> DashboardSpec:
    """The dashboard, with thresholds from ``config``."""
    cost_model = f"{c.PERSONA_COST.name}{{{JOB}, {PERSONA}, {MODEL}}}"
    used = f"{c.BUDGET_USED.name}{{{JOB}, {PERSONA}}}"
    limit = f"{c.BUDGET_LIMIT.name}{{{JOB}, {PERSONA}}}"
    usage_thresholds = steps(
        (GREEN, None),
        (YELLOW, 1 - config.budget_low_ratio),
        (RED, 1 - config.budget_nearly_exhausted_ratio),
    )
    panels = [
        PanelSpec(
            "stat",
            "Cost in range",
            "US dollars spent in the selected time range.",
            [Query(f"sum(increase({cost_model}[{RANGE}]))")],
            "currencyUSD",
            width=6,
        ),
        PanelSpec(
            "stat",
            "Cost, month to date",
            "US dollars spent since the 1st of the month.",
            [Query(f"sum(increase({cost_model}[{RANGE}]))")],
            "currencyUSD",
            width=6,
            time_from="now/M",
        ),
        PanelSpec(
            "stat",
            "Cost rate",
            "Current spend in US dollars per hour.",
            [Query(f"sum(rate({cost_model}[{RATE}])) * 3600")],
            "currencyUSD",
            width=6,
        ),
        PanelSpec(
            "stat",
            "Unpriced tokens",
            "Tokens of models with no price in the config or genai-prices and no reported "
            "cost, in the range: their cost is not counted.",
            [
                Query(
                    f"sum(increase({c.PERSONA_UNPRICED_TOKENS.name}"
                    f"{{{JOB}, {PERSONA}, {MODEL}}}[{RANGE}]))"
                )
            ],
            "short",
            width=6,
            thresholds=steps((GREEN, None), (YELLOW, 1)),
        ),
        PanelSpec(
            "timeseries",
            "Cost trend by persona",
            "US dollars per hour.",
            [Query(f"sum by (persona) (rate({cost_model}[{RATE}])) * 3600", "{{persona}}")],
            "currencyUSD",
        ),
        PanelSpec(
            "piechart",
            "Cost by model",
            "Share of spend in the range.",
            [Query(f"sum by (model) (increase({cost_model}[{RANGE}]))", "{{model}}", instant=True)],
            "currencyUSD",
        ),
        PanelSpec(
            "timeseries",
            "Tokens by model",
            "Tokens per second by type: input, cache_read, cache_write, output, reasoning.",
            [
                Query(
                    f"sum by (model, token_type) (rate({c.PERSONA_TOKENS.name}"
                    f"{{{JOB}, {PERSONA}, {MODEL}}}[{RATE}]))",
                    "{{model}} {{token_type}}",
                )
            ],
            "short",
        ),
        PanelSpec(
            "bargauge",
            "Budget used",
            "Share of each persona's token budget used in its current period.",
            [
                Query(
                    f"sum by (persona, period) ({used})\n/\nsum by (persona, period) ({limit})",
                    "{{persona}} ({{period}})",
                    instant=True,
                )
            ],
            "percentunit",
            thresholds=usage_thresholds,
            min=0,
            max=1,
        ),
        PanelSpec(
            "table",
            "Budget used vs limit (per instance)",
            "Tokens used and the limit, per period, of budgets each exporter holds on its own "
            "(scope: instance).",
            [
                Query(f"sum by (persona, period) ({used})", instant=True, fmt="table"),
                Query(f"sum by (persona, period) ({limit})", instant=True, fmt="table"),
            ],
            "short",
            options={"sortBy": [{"displayName": "Value #A", "desc": True}]},
        ),
        PanelSpec(
            "table",
            "Fleet budgets (shared)",
            "Budgets shared by every exporter that reports the persona (scope: fleet): usage "
            "added up across the fleet, the limit counted once, what is left. From the "
            "recording rules.",
            [
                Query(f"{FLEET_USED}{{{PERSONA}}}", instant=True, fmt="table"),
                Query(f"{FLEET_LIMIT}{{{PERSONA}}}", instant=True, fmt="table"),
                Query(f"{FLEET_REMAINING}{{{PERSONA}}}", instant=True, fmt="table"),
            ],
            "short",
            options={"sortBy": [{"displayName": "Value #C", "desc": False}]},
        ),
        PanelSpec(
            "table",
            "Time to exhaustion",
            "At the last hour's burn rate, when each persona's budget runs out "
            "(only personas that are burning).",
            [
                Query(
                    f"sum by (persona) ({c.BUDGET_REMAINING.name}{{{JOB}, {PERSONA}}})\n/\n"
                    f"sum by (persona) (persona:{c.PERSONA_TOKENS.family}:rate1h"
                    f"{{{JOB}, {PERSONA}}}) > 0",
                    instant=True,
                    fmt="table",
                )
            ],
            "s",
        ),
        PanelSpec(
            "table",
            "Top spenders",
            "Personas by US dollars spent in the range.",
            [
                Query(
                    f"topk(10, sum by (persona) (increase({cost_model}[{RANGE}])))",
                    instant=True,
                    fmt="table",
                )
            ],
            "currencyUSD",
            width=12,
        ),
        PanelSpec(
            "table",
            "Price source",
            "Where each model's price comes from: config, genai-prices (with the date of its "
            "data) or none; and the share of the cost the providers reported themselves.",
            [
                Query(
                    f"max by (model, source, price_data_date) "
                    f"({c.MODEL_PRICE_INFO.name}{{{JOB}, {MODEL}}})",
                    instant=True,
                    fmt="table",
                ),
                Query(
                    f"sum by (model) (increase({c.PERSONA_REPORTED_COST.name}"
                    f"{{{JOB}, {PERSONA}, {MODEL}}}[{RANGE}]))\n/\n"
                    f"sum by (model) (increase({cost_model}[{RANGE}])) > -1",
                    instant=True,
                    fmt="table",
                ),
            ],
            "percentunit",
            width=12,
        ),
    ]
    return DashboardSpec(
        "llm-cost-budgets",
        "Hypertool / LLM Cost and Budgets",
        "Spend by persona and model, tokens, and budgets against their limits.",
        ["persona", "model"],
        panels,
    )


__all__ = ["dashboard"]
