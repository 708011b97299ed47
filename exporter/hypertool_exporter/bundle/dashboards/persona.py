"""Persona Overview: switches, time in each persona, token use and budgets."""

from __future__ import annotations

from ...model import catalog as c
from ..config import BundleConfig
from ..grafana import (
    GREEN,
    JOB,
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

SWITCHES = f'{c.PERSONA_SWITCHES.name}{{{JOB}, to_persona=~"$persona"}}'
TOKENS = f"{c.PERSONA_TOKENS.name}{{{JOB}, {PERSONA}}}"


def dashboard(config: BundleConfig) -> DashboardSpec:
    """The dashboard, with thresholds from ``config``."""
    budget_thresholds = steps(
        (RED, None),
        (YELLOW, config.budget_nearly_exhausted_ratio),
        (GREEN, config.budget_low_ratio),
    )
    panels = [
        PanelSpec(
            "stat",
            "Persona switches",
            "Switches per second into the selected personas.",
            [Query(f"sum(rate({SWITCHES}[{RATE}]))")],
            "ops",
            width=6,
            height=5,
        ),
        PanelSpec(
            "stat",
            "Active personas",
            "Personas that used tokens in the time range.",
            [Query(f"count(sum by (persona) (increase({TOKENS}[{RANGE}])) > 0)")],
            "short",
            width=6,
            height=5,
        ),
        PanelSpec(
            "stat",
            "Tokens used",
            "Tokens used by the selected personas in the range.",
            [Query(f"sum(increase({TOKENS}[{RANGE}]))")],
            "short",
            width=6,
            height=5,
        ),
        PanelSpec(
            "stat",
            "Events applied",
            "Events folded by the exporters per second.",
            [Query(f"sum(rate({c.EVENTS_APPLIED.name}{{{JOB}}}[{RATE}]))")],
            "ops",
            width=6,
            height=5,
        ),
        PanelSpec(
            "timeseries",
            "Switch rate by persona",
            "Switches per second into each persona.",
            [Query(f"sum by (to_persona) (rate({SWITCHES}[{RATE}]))", "{{to_persona}}")],
            "ops",
        ),
        PanelSpec(
            "table",
            "Transitions",
            "Persona switches in the range, from -> to.",
            [
                Query(
                    f"sort_desc(sum by (from_persona, to_persona) (increase({SWITCHES}[{RANGE}])))",
                    instant=True,
                    fmt="table",
                )
            ],
            "short",
        ),
        PanelSpec(
            "bargauge",
            "Time spent per persona",
            "Total time spent in each persona before switching away, in the range.",
            [
                Query(
                    f"sort_desc(sum by (persona) (increase("
                    f"{c.PERSONA_DURATION.name}_sum{{{JOB}, {PERSONA}}}[{RANGE}])))",
                    "{{persona}}",
                    instant=True,
                )
            ],
            "s",
            width=8,
        ),
        PanelSpec(
            "piechart",
            "Tokens by persona",
            "Share of tokens used in the range.",
            [Query(f"sum by (persona) (increase({TOKENS}[{RANGE}]))", "{{persona}}", instant=True)],
            "short",
            width=8,
        ),
        PanelSpec(
            "bargauge",
            "Top chat modes",
            "Chat modes entered most often in the range.",
            [
                Query(
                    f"topk(10, sum by (chatmode) (increase({SWITCHES}[{RANGE}])))",
                    "{{chatmode}}",
                    instant=True,
                )
            ],
            "short",
            width=8,
        ),
        PanelSpec(
            "bargauge",
            "Budget remaining",
            "Share of each persona's token budget left in its current period "
            "(negative when overspent). Red under 10%, yellow under 25%.",
            [
                Query(
                    f"sum by (persona) ({c.BUDGET_REMAINING.name}{{{JOB}, {PERSONA}}})\n/\n"
                    f"sum by (persona) ({c.BUDGET_LIMIT.name}{{{JOB}, {PERSONA}}})",
                    "{{persona}}",
                    instant=True,
                )
            ],
            "percentunit",
            width=12,
            thresholds=budget_thresholds,
            min=0,
            max=1,
        ),
        PanelSpec(
            "timeseries",
            "Tokens per second by persona",
            "Token throughput from the recording rule persona:...:rate5m.",
            [
                Query(
                    f"sum by (persona) (persona:{c.PERSONA_TOKENS.family}:rate5m"
                    f"{{{JOB}, {PERSONA}}})",
                    "{{persona}}",
                )
            ],
            "short",
        ),
    ]
    return DashboardSpec(
        "persona-overview",
        "Hypertool / Persona Overview",
        "Persona switches, time in each persona, token use and budgets.",
        ["persona"],
        panels,
    )


__all__ = ["dashboard"]
