"""LLM Cost and Budgets: spend by persona and model, tokens, and budgets against
their limits."""

from __future__ import annotations

from typing import Any

from ...model import catalog as c
from .. import grafana as g
from ..budget_rules import (
    DOLLARS,
    FLEET_LIMIT,
    FLEET_REMAINING,
    FLEET_USED,
    fleet_limit,
    fleet_used,
)
from ..config import BundleConfig


def _used_gauge(
    title: str, description: str, queries: list[g.Query], thresholds: dict[str, Any]
) -> g.PanelSpec:
    """A bar gauge of the share of a budget used: 0 to 100%, coloured by ``thresholds``."""
    return g.PanelSpec(
        "bargauge", title, description, queries, "percentunit", thresholds=thresholds, min=0, max=1
    )


def dashboard(config: BundleConfig) -> g.DashboardSpec:
    """The dashboard, with thresholds from ``config``."""
    cost_model = f"{c.PERSONA_COST.name}{{{g.JOB}, {g.PERSONA}, {g.MODEL}}}"
    used = f"{c.BUDGET_USED.name}{{{g.JOB}, {g.PERSONA}}}"
    limit = f"{c.BUDGET_LIMIT.name}{{{g.JOB}, {g.PERSONA}}}"
    usd_used = f"{c.COST_BUDGET_USED.name}{{{g.JOB}, {g.PERSONA}}}"
    usd_limit = f"{c.COST_BUDGET_LIMIT.name}{{{g.JOB}, {g.PERSONA}}}"
    usage_thresholds = g.steps(
        (g.GREEN, None),
        (g.YELLOW, 1 - config.budget_low_ratio),
        (g.RED, 1 - config.budget_nearly_exhausted_ratio),
    )
    panels = [
        g.PanelSpec(
            "stat",
            "Cost in range",
            "US dollars spent in the selected time range.",
            [g.Query(f"sum(increase({cost_model}[{g.RANGE}]))")],
            "currencyUSD",
            width=6,
        ),
        g.PanelSpec(
            "stat",
            "Cost, month to date",
            "US dollars spent since the 1st of the month.",
            [g.Query(f"sum(increase({cost_model}[{g.RANGE}]))")],
            "currencyUSD",
            width=6,
            time_from="now/M",
        ),
        g.PanelSpec(
            "stat",
            "Cost rate",
            "Current spend in US dollars per hour.",
            [g.Query(f"sum(rate({cost_model}[{g.RATE}])) * 3600")],
            "currencyUSD",
            width=6,
        ),
        g.PanelSpec(
            "stat",
            "Unpriced tokens",
            "Tokens of models with no price in the config or genai-prices and no reported "
            "cost, in the range: their cost is not counted.",
            [
                g.Query(
                    f"sum(increase({c.PERSONA_UNPRICED_TOKENS.name}"
                    f"{{{g.JOB}, {g.PERSONA}, {g.MODEL}}}[{g.RANGE}]))"
                )
            ],
            "short",
            width=6,
            thresholds=g.steps((g.GREEN, None), (g.YELLOW, 1)),
        ),
        g.PanelSpec(
            "timeseries",
            "Cost trend by persona",
            "US dollars per hour.",
            [g.Query(f"sum by (persona) (rate({cost_model}[{g.RATE}])) * 3600", "{{persona}}")],
            "currencyUSD",
        ),
        g.PanelSpec(
            "piechart",
            "Cost by model",
            "Share of spend in the range.",
            [
                g.Query(
                    f"sum by (model) (increase({cost_model}[{g.RANGE}]))", "{{model}}", instant=True
                )
            ],
            "currencyUSD",
        ),
        g.PanelSpec(
            "timeseries",
            "Tokens by model",
            "Tokens per second by type: input, cache_read, cache_write, output, reasoning.",
            [
                g.Query(
                    f"sum by (model, token_type) (rate({c.PERSONA_TOKENS.name}"
                    f"{{{g.JOB}, {g.PERSONA}, {g.MODEL}}}[{g.RATE}]))",
                    "{{model}} {{token_type}}",
                )
            ],
            "short",
        ),
        _used_gauge(
            "Budget used",
            "Share of each persona's token budget used in its current period.",
            [
                g.Query(
                    f"sum by (persona, period) ({used})\n/\nsum by (persona, period) ({limit})",
                    "{{persona}} ({{period}})",
                    instant=True,
                )
            ],
            usage_thresholds,
        ),
        _used_gauge(
            "Spending budget used",
            "Share of each persona's spending (US dollar) budget used in its current period; "
            "a budget a fleet shares counts every exporter's spend.",
            [
                g.Query(
                    f"sum by (persona, period) ({usd_used})\n/\n"
                    f"sum by (persona, period) ({usd_limit})",
                    "{{persona}} ({{period}})",
                    instant=True,
                ),
                g.Query(
                    f"{fleet_used(DOLLARS)}{{{g.PERSONA}}}\n/ on (persona, period)\n"
                    f"{fleet_limit(DOLLARS)}{{{g.PERSONA}}}",
                    "{{persona}} ({{period}}, fleet)",
                    instant=True,
                ),
            ],
            usage_thresholds,
        ),
        g.PanelSpec(
            "table",
            "Budget used vs limit (per instance)",
            "Tokens used and the limit, per period, of budgets each exporter holds on its own "
            "(scope: instance).",
            [
                g.Query(
                    f"sum by (persona, period) ({used})", instant=True, fmt="table", column="Used"
                ),
                g.Query(
                    f"sum by (persona, period) ({limit})", instant=True, fmt="table", column="Limit"
                ),
            ],
            "short",
            options={"sortBy": [{"displayName": "Used", "desc": True}]},
        ),
        g.PanelSpec(
            "table",
            "Fleet budgets (shared)",
            "Budgets shared by every exporter that reports the persona (scope: fleet): usage "
            "added up across the fleet, the limit counted once, what is left. From the "
            "recording rules.",
            [
                g.Query(f"{FLEET_USED}{{{g.PERSONA}}}", instant=True, fmt="table", column="Used"),
                g.Query(f"{FLEET_LIMIT}{{{g.PERSONA}}}", instant=True, fmt="table", column="Limit"),
                g.Query(
                    f"{FLEET_REMAINING}{{{g.PERSONA}}}", instant=True, fmt="table", column="Left"
                ),
            ],
            "short",
            options={"sortBy": [{"displayName": "Left", "desc": False}]},
        ),
        g.PanelSpec(
            "table",
            "Time to exhaustion",
            "At the last hour's burn rate, when each persona's budget runs out "
            "(only personas that are burning).",
            [
                g.Query(
                    f"sum by (persona) ({c.BUDGET_REMAINING.name}{{{g.JOB}, {g.PERSONA}}})\n/\n"
                    f"sum by (persona) (persona:{c.PERSONA_TOKENS.family}:rate1h"
                    f"{{{g.JOB}, {g.PERSONA}}}) > 0",
                    instant=True,
                    fmt="table",
                    column="Runs out in",
                )
            ],
            "s",
        ),
        g.PanelSpec(
            "table",
            "Top spenders",
            "Personas by US dollars spent in the range.",
            [
                g.Query(
                    f"topk(10, sum by (persona) (increase({cost_model}[{g.RANGE}])))",
                    instant=True,
                    fmt="table",
                    column="Spent",
                )
            ],
            "currencyUSD",
            width=12,
        ),
        g.PanelSpec(
            "table",
            "Price source",
            "Where each model's price comes from: config, genai-prices (with the date of its "
            "data) or none; and the share of the cost the providers reported themselves.",
            [
                g.Query(
                    f"max by (model, source, price_data_date) "
                    f"({c.MODEL_PRICE_INFO.name}{{{g.JOB}, {g.MODEL}}})",
                    instant=True,
                    fmt="table",
                    column=None,  # an info series: its labels are the answer
                ),
                g.Query(
                    f"sum by (model) (increase({c.PERSONA_REPORTED_COST.name}"
                    f"{{{g.JOB}, {g.PERSONA}, {g.MODEL}}}[{g.RANGE}]))\n/\n"
                    f"sum by (model) (increase({cost_model}[{g.RANGE}])) > -1",
                    instant=True,
                    fmt="table",
                    column="Reported by provider",
                    column_unit="percentunit",
                ),
            ],
            "short",
            width=12,
        ),
    ]
    return g.DashboardSpec(
        "llm-cost-budgets",
        "Hypertool / LLM Cost and Budgets",
        "Spend by persona and model, tokens, and budgets against their limits.",
        ["persona", "model"],
        panels,
    )


__all__ = ["dashboard"]
