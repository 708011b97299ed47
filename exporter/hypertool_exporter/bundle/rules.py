"""Prometheus alerting and recording rules, generated from the catalog.

Every metric name comes from ``model/catalog.py`` and every threshold, window
and ``for`` duration from ``bundle/config.BundleConfig``, so a rule cannot name a
metric the exporter never emits, and tuning is one edit. ``runbook_url`` is
added to every alert by one function rather than by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..model import catalog as c
from .config import BundleConfig


def _matchers(*matchers: str) -> str:
    """A PromQL label-matcher list; ``{}`` (any series) when there are none."""
    return "{" + ", ".join(m for m in matchers if m) + "}"


def _runbook(config: BundleConfig, alert: dict[str, Any]) -> dict[str, Any]:
    """Add ``runbook_url`` pointing at the alert's section of docs/runbook.md."""
    anchor = alert["alert"].lower()
    alert["annotations"]["runbook_url"] = f"{config.runbook_base_url}#{anchor}"
    return alert


def _alert(
    name: str, expr: str, for_: str, severity: str, summary: str, description: str
) -> dict[str, Any]:
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if for_ and for_ != "0s":
        rule["for"] = for_
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary, "description": description}
    return rule


def alert_rules(config: BundleConfig) -> list[dict[str, Any]]:
    job = _matchers(config.selector)
    failed = _matchers(config.selector, 'result="failed"')
    up = _matchers(f'job=~"{config.exporter_job}"')
    remaining = f"{c.BUDGET_REMAINING.name}{job}"
    limit = f"{c.BUDGET_LIMIT.name}{job}"
    reset = f"{c.BUDGET_RESET.name}{job}"
    tokens = f"{c.PERSONA_TOKENS.name}{job}"
    by_persona = "job, instance, persona"
    burn = f"sum by ({by_persona}) (rate({tokens}[{config.budget_forecast_window}]))"
    limit_by_persona = f"max by ({by_persona}) ({limit})"
    gates = f"{c.QUALITY_GATE.name}{job}"
    gate_window = config.gate_failure_window
    gate_total = f"sum by (job, workflow, stage) (rate({gates}[{gate_window}]))"
    llm_window = config.llm_error_window
    llm_total = f"sum by (job, persona, model) (rate({c.LLM_REQUESTS.name}{job}[{llm_window}]))"
    rules = [
        _alert(
            "PersonaTokenBudgetExceeded",
            # Negated so that $value is the overspend, a positive number of tokens.
            f"-{remaining} > 0",
            config.budget_exceeded_for,
            "critical",
            "A persona has spent more tokens than its budget allows.",
            "Persona {{ $labels.persona }} on {{ $labels.instance }} is "
            "{{ $value | humanize }} tokens over its budget for the current period.",
        ),
        _alert(
            "PersonaTokenBudgetNearlyExhausted",
            f"(\n  {remaining}\n/ on ({by_persona})\n  {limit_by_persona}\n)"
            f" < {config.budget_nearly_exhausted_ratio:g}\n"
            f"and on ({by_persona})\n  {limit_by_persona} > 0",
            config.budget_nearly_exhausted_for,
            "warning",
            f"A persona has less than {config.budget_nearly_exhausted_ratio:.0%} of its token "
            "budget left.",
            "Persona {{ $labels.persona }} on {{ $labels.instance }} has "
            "{{ $value | humanizePercentage }} of its token budget left.",
        ),
        _alert(
            "PersonaTokenBudgetExhaustionForecast",
            f"(\n  {remaining}\n/ on ({by_persona})\n  {burn}\n)\n"
            f"< on ({by_persona})\n  {reset}\n"
            f"and on ({by_persona})\n  {remaining} > 0\n"
            f"and on ({by_persona})\n  {burn} > 0",
            config.budget_forecast_for,
            "warning",
            "At its current burn rate a persona will run out of tokens before its budget resets.",
            "Persona {{ $labels.persona }} on {{ $labels.instance }} will exhaust its "
            "token budget in {{ $value | humanizeDuration }}, before the period resets.",
        ),
        _alert(
            "HighPersonaSwitchRate",
            f"sum by (job, instance, from_persona, to_persona) "
            f"(rate({c.PERSONA_SWITCHES.name}{job}[{config.switch_rate_window}]))\n"
            f"> {config.switch_rate_per_second:g}",
            config.switch_rate_for,
            "warning",
            "Personas are switching back and forth unusually fast.",
            "{{ $labels.from_persona }} -> {{ $labels.to_persona }} on {{ $labels.instance }} "
            'switches {{ printf "%.2f" $value }} times per second.',
        ),
        _alert(
            "WorkflowQualityGateFailure",
            f"(\n  sum by (job, workflow, stage) "
            f"(rate({c.QUALITY_GATE.name}{failed}[{gate_window}]))\n"
            f"/\n  {gate_total}\n) > {config.gate_failure_ratio:g}\n"
            f"and\n  {gate_total} > 0",
            config.gate_failure_for,
            "warning",
            "Quality gates of a workflow stage are failing often.",
            "{{ $value | humanizePercentage }} of quality gates of stage {{ $labels.stage }} "
            "in workflow {{ $labels.workflow }} failed over the last "
            f"{gate_window}.",
        ),
        _alert(
            "WorkflowStageSlow",
            f"histogram_quantile({config.stage_slow_quantile:g},\n"
            f"  sum by (job, workflow, stage, le) "
            f"(rate({c.STAGE_DURATION.name}_bucket{job}[{config.stage_slow_window}]))\n"
            f") > {config.stage_slow_seconds:g}",
            config.stage_slow_for,
            "warning",
            "A workflow stage is running slow.",
            "p95 duration of stage {{ $labels.stage }} in workflow {{ $labels.workflow }} is "
            "{{ $value | humanizeDuration }}.",
        ),
        _alert(
            "LLMErrorRateHigh",
            f"(\n  sum by (job, persona, model) "
            f"(rate({c.LLM_ERRORS.name}{job}[{llm_window}]))\n"
            f"/\n  {llm_total}\n) > {config.llm_error_ratio:g}\n"
            f"and\n  {llm_total} > 0",
            config.llm_error_for,
            "warning",
            "LLM calls are failing often.",
            "{{ $value | humanizePercentage }} of calls to {{ $labels.model }} by persona "
            "{{ $labels.persona }} failed over the last "
            f"{llm_window}.",
        ),
        _alert(
            "HypertoolExporterDown",
            f"up{up} == 0\nor\nabsent(up{up})",
            config.exporter_down_for,
            "critical",
            "A hypertool exporter cannot be scraped.",
            "Prometheus has not scraped "
            "{{ with $labels.job }}job {{ . }}{{ else }}a job matching "
            f"{config.exporter_job}"
            "{{ end }}{{ with $labels.instance }} at {{ . }}{{ else }} (no target at all){{ end }} "
            f"for {config.exporter_down_for}.",
        ),
        _alert(
            "HypertoolExporterJournalDown",
            f"{c.JOURNAL_UP.name}{job} == 0",
            config.journal_down_for,
            "critical",
            "A hypertool exporter cannot read its journal.",
            "{{ $labels.instance }} has not been able to read its journal for "
            f"{config.journal_down_for}; recorded events are not being applied.",
        ),
        _alert(
            "HypertoolExporterJournalLagging",
            f"{c.JOURNAL_LAG_SECONDS.name}{job} > {config.journal_lag_seconds:g}",
            config.journal_lag_for,
            "warning",
            "A hypertool exporter is falling behind its journal.",
            "The oldest event not yet applied by {{ $labels.instance }} is "
            "{{ $value | humanizeDuration }} old.",
        ),
        _alert(
            "HypertoolUnpricedModel",
            f"sum by (job, instance, persona, model) "
            f"(increase({c.PERSONA_UNPRICED_TOKENS.name}{job}[{config.unpriced_window}])) > 0",
            config.unpriced_for,
            "warning",
            "Tokens of a model without a price are being recorded; their cost is not counted.",
            "{{ $labels.instance }} recorded {{ $value | humanize }} tokens of model "
            "{{ $labels.model }} (persona {{ $labels.persona }}) with no price in the last "
            f"{config.unpriced_window}.",
        ),
        _alert(
            "HypertoolPriceDataStale",
            f"time() - {c.PRICE_DATA_TIMESTAMP.name}{job}\n"
            f"> {config.price_data_max_age_days * 86400:.0f}",
            config.price_data_stale_for,
            "warning",
            "The price data the exporter uses is old.",
            "The newest price change in the genai-prices data of {{ $labels.instance }} is "
            "{{ $value | humanizeDuration }} old.",
        ),
        *fleet_alerts(config),
    ]
    return [_runbook(config, rule) for rule in rules]


def recording_rules(config: BundleConfig) -> list[dict[str, Any]]:
    """Heavy dashboard queries and fleet-wide budgets, named level:metric:operations.

    Ratios end in ``> -1``: it keeps every real ratio and drops the NaN of
    0/0, so a stage with no gates in the window records nothing rather than NaN.
    """
    job = _matchers(config.selector)
    passed = _matchers(config.selector, 'result="passed"')
    rules = []
    for window in ("5m", "1h"):
        rules += [
            {
                "record": f"persona:{c.PERSONA_TOKENS.family}:rate{window}",
                "expr": f"sum by (job, persona, token_type) "
                f"(rate({c.PERSONA_TOKENS.name}{job}[{window}]))",
            },
            {
                "record": f"persona_model:{c.PERSONA_COST.family}:rate{window}",
                "expr": f"sum by (job, persona, model) "
                f"(rate({c.PERSONA_COST.name}{job}[{window}]))",
            },
        ]
    rules += [
        {
            "record": f"workflow_stage:{c.QUALITY_GATE.family}:pass_ratio_rate5m",
            "expr": f"sum by (job, workflow, stage) (rate({c.QUALITY_GATE.name}{passed}[5m]))"
            "\n/\nsum by (job, workflow, stage) "
            f"(rate({c.QUALITY_GATE.name}{job}[5m])) > -1",
        },
        {
            "record": f"persona_model:{c.LLM_ERRORS.family}:ratio_rate5m",
            "expr": f"sum by (job, persona, model) (rate({c.LLM_ERRORS.name}{job}[5m]))\n/\n"
            f"sum by (job, persona, model) (rate({c.LLM_REQUESTS.name}{job}[5m])) > -1",
        },
    ]
    for quantile in (0.5, 0.95):
        rules.append(
            {
                "record": f"workflow_stage:{c.STAGE_DURATION.name}:p{round(quantile * 100)}_rate5m",
                "expr": f"histogram_quantile({quantile:g}, sum by (job, workflow, stage, le) "
                f"(rate({c.STAGE_DURATION.name}_bucket{job}[5m])))",
            }
        )
    rules += fleet_rules(config)
    return rules


#: The fleet's budget per persona and period, as recorded.
FLEET_LIMIT = f"persona_period:{c.FLEET_BUDGET_LIMIT.name}:max"
FLEET_USED = f"persona_period:{c.BUDGET_USED.name}:fleet_sum"
FLEET_REMAINING = f"persona_period:{c.FLEET_BUDGET_LIMIT.name}:remaining"
FLEET_BURN = f"persona:{c.PERSONA_TOKENS.family}:fleet_rate1h"
FLEET_RESET = f"persona:{c.BUDGET_RESET.name}:min"


def fleet_rules(config: BundleConfig) -> list[dict[str, Any]]:
    """Budgets shared by a fleet (``scope: fleet``), computed where the data meets.

    The limit counts once (``max``: every exporter reports the same configured
    limit), the usage is added up over the exporters that report the persona,
    and a host that is down only drops its usage out of the sum, so it never
    raises a false alert.
    """
    sel = _matchers(config.selector)
    key = "job, instance, persona, period"
    return [
        {
            "record": FLEET_LIMIT,
            "expr": f"max by (persona, period) ({c.FLEET_BUDGET_LIMIT.name}{sel})",
        },
        {
            "record": FLEET_USED,
            "expr": f"sum by (persona, period) (\n  {c.BUDGET_USED.name}{sel}\n"
            f"and on ({key})\n  {c.FLEET_BUDGET_LIMIT.name}{sel}\n)",
        },
        {
            "record": FLEET_REMAINING,
            "expr": f"{FLEET_LIMIT} - on (persona, period) {FLEET_USED}",
        },
        {
            "record": FLEET_BURN,
            "expr": f"sum by (persona) (rate({c.PERSONA_TOKENS.name}{sel}"
            f"[{config.budget_forecast_window}]))",
        },
        {"record": FLEET_RESET, "expr": f"min by (persona) ({c.BUDGET_RESET.name}{sel})"},
    ]


def fleet_alerts(config: BundleConfig) -> list[dict[str, Any]]:
    """The per-instance budget alerts' fleet counterparts, on the fleet rules."""
    ratio = config.budget_nearly_exhausted_ratio
    return [
        _alert(
            "PersonaFleetTokenBudgetExceeded",
            f"-{FLEET_REMAINING} > 0",
            config.budget_exceeded_for,
            "critical",
            "A persona has spent more tokens across the fleet than its shared budget allows.",
            "Persona {{ $labels.persona }} is {{ $value | humanize }} tokens over its "
            "{{ $labels.period }} fleet budget, counting every exporter that reports it.",
        ),
        _alert(
            "PersonaFleetTokenBudgetNearlyExhausted",
            f"(\n  {FLEET_REMAINING}\n/ on (persona, period)\n  {FLEET_LIMIT}\n) < {ratio:g}\n"
            f"and on (persona, period)\n  {FLEET_LIMIT} > 0",
            config.budget_nearly_exhausted_for,
            "warning",
            f"A persona has less than {ratio:.0%} of its shared fleet budget left.",
            "Persona {{ $labels.persona }} has {{ $value | humanizePercentage }} of its "
            "{{ $labels.period }} fleet budget left.",
        ),
        _alert(
            "PersonaFleetBudgetExhaustionForecast",
            f"(\n  {FLEET_REMAINING}\n/ on (persona) group_left\n  {FLEET_BURN}\n)\n"
            f"< on (persona) group_left\n  {FLEET_RESET}\n"
            f"and on (persona, period)\n  {FLEET_REMAINING} > 0\n"
            f"and on (persona)\n  {FLEET_BURN} > 0",
            config.budget_forecast_for,
            "warning",
            "At the fleet's burn rate a persona will run out of its shared budget before "
            "it resets.",
            "Persona {{ $labels.persona }} will exhaust its {{ $labels.period }} fleet budget "
            "in {{ $value | humanizeDuration }}, before the period resets.",
        ),
    ]


def rules_document(config: BundleConfig | None = None) -> dict[str, Any]:
    config = config or BundleConfig()
    return {
        "groups": [
            {
                "name": "hypertool.rules",
                "interval": config.recording_interval,
                "rules": recording_rules(config),
            },
            {"name": "hypertool.alerts", "rules": alert_rules(config)},
        ]
    }


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(str, _str_presenter)

HEADER = (
    "# Generated by `hypertool-exporter bundle build` from exporter/hypertool_exporter/"
    "bundle/rules.py.\n# Do not edit: change bundle/config.py or the generator and rebuild.\n"
)


def render_rules(config: BundleConfig | None = None) -> str:
    body = yaml.dump(rules_document(config), Dumper=_Dumper, sort_keys=False, width=4096)
    return HEADER + body


def write_rules(root: Path, config: BundleConfig | None = None) -> Path:
    """Write ``alerts/hypertool.rules.yml`` under ``root``."""
    path = root / "alerts" / "hypertool.rules.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_rules(config), encoding="utf-8")
    return path


__all__ = ["alert_rules", "recording_rules", "render_rules", "rules_document", "write_rules"]
