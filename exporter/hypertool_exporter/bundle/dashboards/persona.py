"""Persona Overview: switches, time in each persona, token use and budgets."""

from __future__ import annotations

from ...model import catalog as c
from .. import grafana as g
from ..config import BundleConfig

SWITCHES = f'{c.PERSONA_SWITCHES.name}{{{g.JOB}, to_persona=~"$persona"}}'
TOKENS = f"{c.PERSONA_TOKENS.name}{{{g.JOB}, {g.PERSONA}}}"


def dashboard(config: BundleConfig) -> g.DashboardSpec:
    """The dashboard, with thresholds from ``config``."""
    budget_thresholds = g.steps(
        (g.RED, None),
        (g.YELLOW, config.budget_nearly_exhausted_ratio),
        (g.GREEN, config.budget_low_ratio),
    )
    panels = [
        g.PanelSpec(
            "stat",
            "Persona switches",
            "Switches per second into the selected personas.",
            [g.Query(f"sum(rate({SWITCHES}[{g.RATE}]))")],
            "ops",
            width=6,
            height=5,
        ),
        g.PanelSpec(
            "stat",
            "Active personas",
            "Personas that used tokens in the time range.",
            [g.Query(f"count(sum by (persona) (increase({TOKENS}[{g.RANGE}])) > 0)")],
            "short",
            width=6,
            height=5,
        ),
        g.PanelSpec(
            "stat",
            "Tokens used",
            "Tokens used by the selected personas in the range.",
            [g.Query(f"sum(increase({TOKENS}[{g.RANGE}]))")],
            "short",
            width=6,
            height=5,
        ),
        g.PanelSpec(
            "stat",
            "Events applied",
            "Events folded by the exporters per second.",
            [g.Query(f"sum(rate({c.EVENTS_APPLIED.name}{{{g.JOB}}}[{g.RATE}]))")],
            "ops",
            width=6,
            height=5,
        ),
        g.PanelSpec(
            "timeseries",
            "Switch rate by persona",
            "Switches per second into each persona.",
            [g.Query(f"sum by (to_persona) (rate({SWITCHES}[{g.RATE}]))", "{{to_persona}}")],
            "ops",
        ),
        g.PanelSpec(
            "table",
            "Transitions",
            "Persona switches in the range, from -> to.",
            [
                g.Query(
                    "sort_desc(sum by (from_persona, to_persona) "
                    f"(increase({SWITCHES}[{g.RANGE}])))",
                    instant=True,
                    fmt="table",
                    column="Switches",
                )
            ],
            "short",
        ),
        g.PanelSpec(
            "bargauge",
            "Time spent per persona",
            "Total time spent in each persona before switching away, in the range.",
            [
                g.Query(
                    f"sort_desc(sum by (persona) (increase("
                    f"{c.PERSONA_DURATION.name}_sum{{{g.JOB}, {g.PERSONA}}}[{g.RANGE}])))",
                    "{{persona}}",
                    instant=True,
                )
            ],
            "s",
            width=8,
        ),
        g.PanelSpec(
            "piechart",
            "Tokens by persona",
            "Share of tokens used in the range.",
            [
                g.Query(
                    f"sum by (persona) (increase({TOKENS}[{g.RANGE}]))", "{{persona}}", instant=True
                )
            ],
            "short",
            width=8,
        ),
        g.PanelSpec(
            "bargauge",
            "Top chat modes",
            "Chat modes entered most often in the range.",
            [
                g.Query(
                    f"topk(10, sum by (chatmode) (increase({SWITCHES}[{g.RANGE}])))",
                    "{{chatmode}}",
                    instant=True,
                )
            ],
            "short",
            width=8,
        ),
        g.PanelSpec(
            "bargauge",
            "Budget remaining",
            "Share of each persona's token budget left in its current period "
            "(negative when overspent). Red under 10%, yellow under 25%.",
            [
                g.Query(
                    f"sum by (persona) ({c.BUDGET_REMAINING.name}{{{g.JOB}, {g.PERSONA}}})\n/\n"
                    f"sum by (persona) ({c.BUDGET_LIMIT.name}{{{g.JOB}, {g.PERSONA}}})",
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
        g.PanelSpec(
            "timeseries",
            "Tokens per second by persona",
            "Token throughput from the recording rule persona:...:rate5m.",
            [
                g.Query(
                    f"sum by (persona) (persona:{c.PERSONA_TOKENS.family}:rate5m"
                    f"{{{g.JOB}, {g.PERSONA}}})",
                    "{{persona}}",
                )
            ],
            "short",
        ),
    ]
    return g.DashboardSpec(
        "persona-overview",
        "Hypertool / Persona Overview",
        "Persona switches, time in each persona, token use and budgets.",
        ["persona"],
        panels,
    )


__all__ = ["dashboard"]
