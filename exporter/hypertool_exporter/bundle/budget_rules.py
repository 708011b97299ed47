"""Budget rules, for tokens and for US dollars alike, per exporter and per fleet.

Each budget has the same five rules in either unit, written once over a
``Unit``: exceeded (critical), nearly exhausted and an exhaustion forecast
(warnings), each per exporter and, for a budget with ``scope: fleet``, on the
fleet's spend added up by recording rules.

Why a blown budget pages within a minute: the exceeded alerts and the fleet
sums they read sit in their own group, evaluated at the global interval (15 s
shipped) in order, so the alert sees the sum recorded in the same pass; they
have no ``for`` (within a period, "over budget" only ever turns on: waiting
buys nothing), and read the lowest remaining over ``budget_exceeded_window``,
so one missed scrape does not resolve and re-fire them. Alertmanager waits
``group_wait`` 10 s for critical alerts. Worst case: scrape 15 s + evaluation
15 s + 10 s = 40 s after the event (docs/dashboards-and-alerts.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model import catalog as c
from ..model.metricspec import MetricSpec
from .config import BundleConfig
from .rule_parts import alert, matchers, with_runbook


@dataclass(frozen=True)
class Unit:
    """What a budget counts, and how its alerts name it."""

    #: In alert names: PersonaTokenBudget..., PersonaCostBudget...
    name: str
    #: What runs out ("tokens", "money") and what the budget is called.
    stuff: str
    budget: str
    #: The budget as an exceeded alert and the fleet's alerts say it ("budget",
    #: "spending budget": the token alerts kept their first words).
    shared: str
    #: ``$value`` in an exceeded alert's description.
    amount: str
    limit: MetricSpec
    used: MetricSpec
    remaining: MetricSpec
    fleet_limit: MetricSpec
    #: The counter a burn rate is taken of.
    spend: MetricSpec
    #: The fleet forecast's alert name (the token one kept its first name).
    fleet_forecast: str


TOKENS = Unit(
    "Token",
    "tokens",
    "token budget",
    "budget",
    "{{ $value | humanize }} tokens",
    c.BUDGET_LIMIT,
    c.BUDGET_USED,
    c.BUDGET_REMAINING,
    c.FLEET_BUDGET_LIMIT,
    c.PERSONA_TOKENS,
    "PersonaFleetBudgetExhaustionForecast",
)
DOLLARS = Unit(
    "Cost",
    "money",
    "spending budget",
    "spending budget",
    '${{ $value | printf "%.2f" }}',
    c.COST_BUDGET_LIMIT,
    c.COST_BUDGET_USED,
    c.COST_BUDGET_REMAINING,
    c.FLEET_COST_BUDGET_LIMIT,
    c.PERSONA_COST,
    "PersonaFleetCostBudgetExhaustionForecast",
)
UNITS = (TOKENS, DOLLARS)

_BY_PERSONA = "job, instance, persona"
_BY_PERIOD = "persona, period"


def fleet_limit(unit: Unit) -> str:
    """The recorded fleet limit of ``unit`` per persona and period."""
    return f"persona_period:{unit.fleet_limit.name}:max"


def fleet_used(unit: Unit) -> str:
    """The recorded fleet spend of ``unit`` per persona and period."""
    return f"persona_period:{unit.used.name}:fleet_sum"


def fleet_remaining(unit: Unit) -> str:
    """The recorded fleet remaining of ``unit`` per persona and period."""
    return f"persona_period:{unit.fleet_limit.name}:remaining"


def fleet_burn(unit: Unit) -> str:
    """The recorded fleet burn rate of ``unit`` per persona."""
    return f"persona:{unit.spend.family}:fleet_rate1h"


FLEET_RESET = f"persona:{c.BUDGET_RESET.name}:min"
#: The token names the dashboards read.
FLEET_LIMIT, FLEET_USED, FLEET_REMAINING = (
    fleet_limit(TOKENS),
    fleet_used(TOKENS),
    fleet_remaining(TOKENS),
)


def budget_group(config: BundleConfig) -> list[dict[str, Any]]:
    """The fast group: each unit's fleet sums, then the exceeded alerts that read them."""
    sel = matchers(config.selector)
    key = "job, instance, persona, period"
    rules: list[dict[str, Any]] = []
    for unit in UNITS:
        rules += [
            {
                "record": fleet_limit(unit),
                "expr": f"max by ({_BY_PERIOD}) ({unit.fleet_limit.name}{sel})",
            },
            {
                # A host that is down only drops its spend out of the sum:
                # never a false alert.
                "record": fleet_used(unit),
                "expr": f"sum by ({_BY_PERIOD}) (\n  {unit.used.name}{sel}\n"
                f"and on ({key})\n  {unit.fleet_limit.name}{sel}\n)",
            },
            {
                "record": fleet_remaining(unit),
                "expr": f"{fleet_limit(unit)} - on ({_BY_PERIOD}) {fleet_used(unit)}",
            },
        ]
    window = config.budget_exceeded_window
    for unit in UNITS:
        rules.append(
            alert(
                f"Persona{unit.name}BudgetExceeded",
                # Negated so that $value is the overspend, a positive amount.
                f"-min_over_time({unit.remaining.name}{sel}[{window}]) > 0",
                config.budget_exceeded_for,
                "critical",
                f"A persona has spent more {unit.stuff} than its budget allows.",
                "Persona {{ $labels.persona }} on {{ $labels.instance }} is "
                f"{unit.amount} over its {unit.shared} for the current period.",
            )
        )
        rules.append(
            alert(
                f"PersonaFleet{unit.name}BudgetExceeded",
                f"-min_over_time({fleet_remaining(unit)}[{window}]) > 0",
                config.budget_exceeded_for,
                "critical",
                f"A persona has spent more {unit.stuff} across the fleet than its shared "
                "budget allows.",
                f"Persona {{{{ $labels.persona }}}} is {unit.amount} over its "
                f"{{{{ $labels.period }}}} fleet {unit.shared}, counting every exporter "
                "that reports it.",
            )
        )
    return [with_runbook(config, rule) if "alert" in rule else rule for rule in rules]


def budget_recording(config: BundleConfig) -> list[dict[str, Any]]:
    """The fleet burn rates and the soonest reset, for the forecasts (dashboards read
    them too: the recording group's interval is fine for them)."""
    sel = matchers(config.selector)
    return [
        *(
            {
                "record": fleet_burn(unit),
                "expr": f"sum by (persona) (rate({unit.spend.name}{sel}"
                f"[{config.budget_forecast_window}]))",
            }
            for unit in UNITS
        ),
        {"record": FLEET_RESET, "expr": f"min by (persona) ({c.BUDGET_RESET.name}{sel})"},
    ]


def budget_alerts(config: BundleConfig) -> list[dict[str, Any]]:
    """The warnings: nearly exhausted and forecast, per exporter and per fleet."""
    sel = matchers(config.selector)
    ratio = config.budget_nearly_exhausted_ratio
    reset = f"{c.BUDGET_RESET.name}{sel}"
    rules = []
    for unit in UNITS:
        remaining = f"{unit.remaining.name}{sel}"
        limit = f"max by ({_BY_PERSONA}) ({unit.limit.name}{sel})"
        burn = (
            f"sum by ({_BY_PERSONA}) (rate({unit.spend.name}{sel}"
            f"[{config.budget_forecast_window}]))"
        )
        left, fleet_left = fleet_remaining(unit), fleet_limit(unit)
        rules += [
            alert(
                f"Persona{unit.name}BudgetNearlyExhausted",
                f"(\n  {remaining}\n/ on ({_BY_PERSONA})\n  {limit}\n) < {ratio:g}\n"
                f"and on ({_BY_PERSONA})\n  {limit} > 0",
                config.budget_nearly_exhausted_for,
                "warning",
                f"A persona has less than {ratio:.0%} of its {unit.budget} left.",
                "Persona {{ $labels.persona }} on {{ $labels.instance }} has "
                f"{{{{ $value | humanizePercentage }}}} of its {unit.budget} left.",
            ),
            alert(
                f"Persona{unit.name}BudgetExhaustionForecast",
                f"(\n  {remaining}\n/ on ({_BY_PERSONA})\n  {burn}\n)\n"
                f"< on ({_BY_PERSONA})\n  {reset}\n"
                f"and on ({_BY_PERSONA})\n  {remaining} > 0\n"
                f"and on ({_BY_PERSONA})\n  {burn} > 0",
                config.budget_forecast_for,
                "warning",
                f"At its current burn rate a persona will run out of {unit.stuff} before its "
                "budget resets.",
                "Persona {{ $labels.persona }} on {{ $labels.instance }} will exhaust its "
                f"{unit.budget} in {{{{ $value | humanizeDuration }}}}, before the period "
                "resets.",
            ),
            alert(
                f"PersonaFleet{unit.name}BudgetNearlyExhausted",
                f"(\n  {left}\n/ on ({_BY_PERIOD})\n  {fleet_left}\n) < {ratio:g}\n"
                f"and on ({_BY_PERIOD})\n  {fleet_left} > 0",
                config.budget_nearly_exhausted_for,
                "warning",
                f"A persona has less than {ratio:.0%} of its shared fleet {unit.shared} left.",
                "Persona {{ $labels.persona }} has {{ $value | humanizePercentage }} of its "
                f"{{{{ $labels.period }}}} fleet {unit.shared}"
                " left.",
            ),
            alert(
                unit.fleet_forecast,
                f"(\n  {left}\n/ on (persona) group_left\n  {fleet_burn(unit)}\n)\n"
                f"< on (persona) group_left\n  {FLEET_RESET}\n"
                f"and on ({_BY_PERIOD})\n  {left} > 0\n"
                f"and on (persona)\n  {fleet_burn(unit)} > 0",
                config.budget_forecast_for,
                "warning",
                f"At the fleet's burn rate a persona will run out of its shared "
                f"{unit.shared} before it resets.",
                "Persona {{ $labels.persona }} will exhaust its {{ $labels.period }} fleet "
                f"{unit.shared} in "
                "{{ $value | humanizeDuration }}, before the period resets.",
            ),
        ]
    return rules


__all__ = [
    "DOLLARS",
    "FLEET_LIMIT",
    "FLEET_REMAINING",
    "FLEET_RESET",
    "FLEET_USED",
    "TOKENS",
    "UNITS",
    "Unit",
    "budget_alerts",
    "budget_group",
    "budget_recording",
    "fleet_burn",
    "fleet_limit",
    "fleet_remaining",
    "fleet_used",
]
