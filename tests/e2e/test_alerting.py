"""End to end: CLI -> exporter -> Prometheus rules -> Alertmanager -> webhook.

The budget alert must arrive with the persona label, the nearly-exhausted
alert must be inhibited meanwhile, and the alert must resolve when the
budget period resets. The exporter's clock is shifted to 40 s before the next
UTC midnight (HYPERTOOL_CLOCK_OFFSET_SECONDS), so the reset comes within the test.
"""

import time

from harness.fast_rules import fast_config
from harness.support import (
    AlertmanagerProcess,
    ExporterProcess,
    PrometheusProcess,
    WebhookReceiver,
    deploy_prometheus_config,
    run_cli,
    shipped_alertmanager_config,
    wait_for,
)

from hypertool_exporter.bundle.rules import render_rules
from hypertool_exporter.model.budgets import period_end

SECONDS_BEFORE_MIDNIGHT = 40


def test_budget_alert_fires_is_inhibited_correctly_and_resolves(tmp_path, config_file):
    journal = tmp_path / "journal.sqlite"
    env = {"HYPERTOOL_JOURNAL": str(journal)}
    run_cli("tokens", "backend-engineer", "--model", "gpt-4", "--input", "6000", env=env)

    rules = tmp_path / "hypertool.rules.yml"
    rules.write_text(render_rules(fast_config(exporter_down_for="1m")))
    webhook = WebhookReceiver()
    alertmanager = AlertmanagerProcess(
        tmp_path / "am", shipped_alertmanager_config(webhook, fast=True)
    )
    now = time.time()
    offset = period_end(now, "daily") - SECONDS_BEFORE_MIDNIGHT - now
    exporter = ExporterProcess(
        journal, config_file, env={"HYPERTOOL_CLOCK_OFFSET_SECONDS": str(offset)}
    )
    prometheus = PrometheusProcess(
        tmp_path / "prom",
        deploy_prometheus_config(
            [f"127.0.0.1:{exporter.port}"], [rules], f"127.0.0.1:{alertmanager.port}"
        ),
    )

    def delivered(status: str):
        return [
            (path, alert)
            for path, st, alert in webhook.alerts()
            if st == status and alert["labels"]["alertname"] == "PersonaTokenBudgetExceeded"
        ]

    try:
        firing = wait_for(
            lambda: delivered("firing"),
            timeout=30,
            what="PersonaTokenBudgetExceeded to reach the webhook",
        )
        path, alert = firing[0]
        assert path == "/alerts/critical"
        assert alert["labels"]["persona"] == "backend-engineer"
        assert alert["labels"]["severity"] == "critical"
        assert alert["annotations"]["description"] == (
            f"Persona backend-engineer on 127.0.0.1:{exporter.port} is 1k tokens over its "
            "budget for the current period."
        )
        assert alert["annotations"]["runbook_url"].endswith("runbook.md#personatokenbudgetexceeded")
        # Prometheus fires NearlyExhausted too; Alertmanager must hold it back.
        wait_for(
            lambda: prometheus.query(
                'ALERTS{alertname="PersonaTokenBudgetNearlyExhausted", alertstate="firing"}'
            ),
            timeout=15,
            what="NearlyExhausted to fire in Prometheus",
        )

        wait_for(
            lambda: delivered("resolved"),
            timeout=SECONDS_BEFORE_MIDNIGHT + 40,
            what="the alert to resolve after the budget period reset",
        )
        remaining = prometheus.query(
            'hypertool_persona_token_budget_remaining{persona="backend-engineer"}'
        )
        assert float(remaining[0]["value"][1]) == 5000
        nearly = [
            a
            for _, _, a in webhook.alerts()
            if a["labels"]["alertname"] == "PersonaTokenBudgetNearlyExhausted"
        ]
        assert nearly == [], "NearlyExhausted must be inhibited while Exceeded fires"
    finally:
        prometheus.stop()
        exporter.stop()
        alertmanager.stop()
        webhook.stop()
