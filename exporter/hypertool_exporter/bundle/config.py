"""The bundle's one config object: every threshold, selector and duration.

The alert and recording rules and the dashboards read their numbers from
``BundleConfig`` (mixin style), so tuning is one edit, and a dashboard turns
red exactly where the matching alert fires. Each field says what it tunes.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._version import __version__


@dataclass(frozen=True)
class BundleConfig:
    """Thresholds, selectors and durations of every rule and dashboard, in one place."""

    #: PromQL label matchers added to every selector of the rules and dashboards
    #: (e.g. 'job="ai-agents"'); empty matches the metrics wherever they are scraped.
    selector: str = ""
    #: Regex of the scrape job(s) whose ``up`` HypertoolExporterDown watches.
    exporter_job: str = "hypertool"
    #: Where the runbook lives; each alert links to its section.
    runbook_base_url: str = (
        "https://github.com/hypertool/hypertool-exporter/blob/main/docs/runbook.md"
    )
    #: Evaluation interval of the recording rules (dashboards read them).
    recording_interval: str = "30s"
    #: How long remaining must stay below zero before Persona{Token,Cost}BudgetExceeded
    #: fire: not at all (within a period, over budget only ever turns on).
    budget_exceeded_for: str = "0s"
    #: An exceeded alert reads the lowest remaining over this window, so a missed
    #: scrape or two neither resolves it nor fires it again.
    budget_exceeded_window: str = "1m"
    #: Fraction of the limit under which PersonaTokenBudgetNearlyExhausted fires.
    budget_nearly_exhausted_ratio: float = 0.10
    budget_nearly_exhausted_for: str = "5m"
    #: Window of the burn rate that forecasts exhaustion before the period resets.
    budget_forecast_window: str = "1h"
    budget_forecast_for: str = "15m"
    #: Switches per second of one from->to transition on one exporter. A stage
    #: lasts tens of seconds to minutes, so 0.5/s (30 a minute) of the same
    #: transition takes over 100 workflows running at once: far more likely an
    #: agent loop flip-flopping between two personas than real work.
    switch_rate_per_second: float = 0.5
    switch_rate_window: str = "5m"
    switch_rate_for: str = "10m"
    #: Share of quality gates failing, per workflow and stage, that alerts.
    gate_failure_ratio: float = 0.20
    gate_failure_window: str = "5m"
    gate_failure_for: str = "2m"
    #: p95 stage duration, in seconds, above which a stage counts as slow.
    stage_slow_seconds: float = 300.0
    stage_slow_quantile: float = 0.95
    stage_slow_window: str = "10m"
    stage_slow_for: str = "15m"
    #: Share of LLM calls failing, per persona and model, that alerts.
    llm_error_ratio: float = 0.05
    llm_error_window: str = "5m"
    llm_error_for: str = "5m"
    #: How long the exporter may be down or absent before paging.
    exporter_down_for: str = "5m"
    #: How long the journal may be unreadable before paging.
    journal_down_for: str = "5m"
    #: Journal lag, in seconds, above which the exporter is falling behind.
    journal_lag_seconds: float = 60.0
    journal_lag_for: str = "10m"
    #: Window in which tokens of an unpriced model raise HypertoolUnpricedModel.
    unpriced_window: str = "1h"
    unpriced_for: str = "0s"
    #: Age in days of the genai-prices data past which HypertoolPriceDataStale fires.
    price_data_max_age_days: float = 90.0
    price_data_stale_for: str = "1h"
    #: Share of quality gates passing that a dashboard shows as healthy (green
    #: from here; red under 1 - gate_failure_ratio, where the alert fires).
    gate_pass_target_ratio: float = 0.95
    #: Share of a budget left under which a dashboard shows yellow (red under
    #: budget_nearly_exhausted_ratio, where the alert fires).
    budget_low_ratio: float = 0.25

    #: Share of LLM calls that must succeed (the SLO whose error budget the
    #: LLMErrorBudgetBurn alerts watch); the gates' SLO is gate_pass_target_ratio.
    llm_success_target: float = 0.99
    #: Workflows whose successful runs are deployments (the plan's
    #: package-release): the delivery outcomes are derived from their runs.
    deployment_workflows: tuple[str, ...] = ("package-release",)
    #: How often Prometheus scrapes the exporter (deploy/prometheus.yml's global
    #: interval, and the ServiceMonitor's and PodMonitor's): part of the alert
    #: latency budget.
    scrape_interval: str = "15s"
    #: Kubernetes (``deploy/kubernetes/``): the namespace everything goes in,
    #: the name of the StatefulSet, Service, monitors and rule, and the job
    #: label Prometheus gives the scraped series (HypertoolExporterDown's
    #: ``exporter_job`` must match it).
    kubernetes_namespace: str = "monitoring"
    kubernetes_name: str = "hypertool-exporter"
    kubernetes_job: str = "hypertool"
    #: The exporter's image (build it from the Dockerfile and push it to a
    #: registry the cluster pulls from).
    image: str = f"hypertool-exporter:{__version__}"
    #: Size of the journal's volume.
    journal_storage: str = "1Gi"
    #: Labels the Prometheus Operator selects ServiceMonitors, PodMonitors and
    #: PrometheusRules by (kube-prometheus-stack: ``release=<its release>``).
    monitor_labels: tuple[tuple[str, str], ...] = ()
    #: The label Grafana's dashboard sidecar looks for (value "1").
    grafana_dashboard_label: str = "grafana_dashboard"

    @property
    def gate_pass_alert_ratio(self) -> float:
        """Pass ratio under which WorkflowQualityGateFailure fires."""
        return 1 - self.gate_failure_ratio


__all__ = ["BundleConfig"]
