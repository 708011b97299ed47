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
from .budget_rules import budget_alerts, budget_group, budget_recording
from .config import BundleConfig
from .rule_parts import alert, matchers, with_runbook
from .slo_rules import delivery_recording, slo_alerts, slo_recording


def alert_rules(config: BundleConfig) -> list[dict[str, Any]]:
    job = matchers(config.selector)
    failed = matchers(config.selector, 'result="failed"')
    up = matchers(f'job=~"{config.exporter_job}"')
    gates = f"{c.QUALITY_GATE.name}{job}"
    gate_window = config.gate_failure_window
    gate_total = f"sum by (job, workflow, stage) (rate({gates}[{gate_window}]))"
    llm_window = config.llm_error_window
    llm_total = f"sum by (job, persona, model) (rate({c.LLM_REQUESTS.name}{job}[{llm_window}]))"
    rules = [
        alert(
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
        alert(
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
        alert(
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
        alert(
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
        alert(
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
        alert(
            "HypertoolExporterJournalDown",
            f"{c.JOURNAL_UP.name}{job} == 0",
            config.journal_down_for,
            "critical",
            "A hypertool exporter cannot read its journal.",
            "{{ $labels.instance }} has not been able to read its journal for "
            f"{config.journal_down_for}; recorded events are not being applied.",
        ),
        alert(
            "HypertoolExporterJournalLagging",
            f"{c.JOURNAL_LAG_SECONDS.name}{job} > {config.journal_lag_seconds:g}",
            config.journal_lag_for,
            "warning",
            "A hypertool exporter is falling behind its journal.",
            "The oldest event not yet applied by {{ $labels.instance }} is "
            "{{ $value | humanizeDuration }} old.",
        ),
        alert(
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
        alert(
            "HypertoolPriceDataStale",
            f"time() - {c.PRICE_DATA_TIMESTAMP.name}{job}\n"
            f"> {config.price_data_max_age_days * 86400:.0f}",
            config.price_data_stale_for,
            "warning",
            "The price data the exporter uses is old.",
            "The newest price change in the genai-prices data of {{ $labels.instance }} is "
            "{{ $value | humanizeDuration }} old.",
        ),
        *budget_alerts(config),
    ]
    return [with_runbook(config, rule) for rule in rules]


def recording_rules(config: BundleConfig) -> list[dict[str, Any]]:
    """Heavy dashboard queries and fleet-wide budgets, named level:metric:operations.

    Ratios end in ``> -1``: it keeps every real ratio and drops the NaN of
    0/0, so a stage with no gates in the window records nothing rather than NaN.
    """
    job = matchers(config.selector)
    passed = matchers(config.selector, 'result="passed"')
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
    rules += budget_recording(config)
    return rules


def rules_document(config: BundleConfig | None = None) -> dict[str, Any]:
    config = config or BundleConfig()
    return {
        "groups": [
            {
                "name": "hypertool.rules",
                "interval": config.recording_interval,
                "rules": recording_rules(config),
            },
            # Evaluated at the global interval: a blown budget pages within a minute.
            {"name": "hypertool.budgets", "rules": budget_group(config)},
            {"name": "hypertool.alerts", "rules": alert_rules(config)},
            # Error budgets and delivery outcomes (``slo_rules``).
            {
                "name": "hypertool.slo",
                "interval": config.recording_interval,
                "rules": [*slo_recording(config), *delivery_recording(config)],
            },
            {"name": "hypertool.slo.alerts", "rules": slo_alerts(config)},
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


def dump_yaml(document: Any) -> str:
    """YAML as the bundle writes it: keys in the order given, text of several
    lines as a block (a PromQL expression, a dashboard's JSON)."""
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=4096)


def render_rules(config: BundleConfig | None = None) -> str:
    return HEADER + dump_yaml(rules_document(config))


def write_rules(root: Path, config: BundleConfig | None = None) -> Path:
    """Write ``alerts/hypertool.rules.yml`` under ``root``."""
    path = root / "alerts" / "hypertool.rules.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_rules(config), encoding="utf-8")
    return path


__all__ = [
    "alert_rules",
    "dump_yaml",
    "recording_rules",
    "render_rules",
    "rules_document",
    "write_rules",
]
