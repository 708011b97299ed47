"""A blown budget reaches the pager within a minute, on the shipped files.

deploy/prometheus.yml (its 15 s scrape and evaluation intervals),
alerts/hypertool.rules.yml and alerts/alertmanager.yml run as shipped: only
the addresses are rewritten (the exporter's, Alertmanager's, the webhooks').
One event blows a token budget and a spending budget at once; the test
measures the time from recording it to each critical alert reaching the
pager's webhook.
"""

import time

from harness.support import (
    REPO,
    AlertmanagerProcess,
    ExporterProcess,
    PrometheusProcess,
    WebhookReceiver,
    deploy_prometheus_config,
    run_cli,
    shipped_alertmanager_config,
    wait_for,
)

#: The plan's success criterion: "Alert latency: <1 minute".
LATENCY_SECONDS = 60
CONFIG = """\
budgets:
  latency-probe: {tokens: 1000, usd: 0.01, period: daily}
pricing:
  probe-model: {input: 0.03, output: 0.06}
"""
ALERTS = ("PersonaTokenBudgetExceeded", "PersonaCostBudgetExceeded")


def test_a_blown_token_and_spending_budget_page_within_a_minute(tmp_path):
    config = tmp_path / "hypertool.yml"
    config.write_text(CONFIG)
    journal = tmp_path / "journal.sqlite"
    webhook = WebhookReceiver()
    alertmanager = AlertmanagerProcess(tmp_path / "am", shipped_alertmanager_config(webhook))
    exporter = ExporterProcess(journal, config)
    prometheus = PrometheusProcess(
        tmp_path / "prom",
        deploy_prometheus_config(
            [f"127.0.0.1:{exporter.port}"],
            [REPO / "alerts" / "hypertool.rules.yml"],
            f"127.0.0.1:{alertmanager.port}",
            shipped_intervals=True,
        ),
    )
    try:
        # Steady state first: Prometheus scrapes the exporter and knows the budget.
        wait_for(
            lambda: prometheus.query(
                'hypertool_persona_cost_budget_remaining_usd{persona="latency-probe"}'
            ),
            timeout=60,
            what="Prometheus to scrape the budget",
        )
        blown = time.time()
        run_cli(
            "tokens",
            "latency-probe",
            "--model",
            "probe-model",
            "--input",
            "1500",
            env={"HYPERTOOL_JOURNAL": str(journal)},
        )

        def paged() -> dict[str, float] | None:
            arrived = {
                alert["labels"]["alertname"]: alert["startsAt"]
                for path, status, alert in webhook.alerts()
                if path == "/alerts/critical" and status == "firing"
            }
            return arrived if set(ALERTS) <= arrived.keys() else None

        wait_for(paged, timeout=2 * LATENCY_SECONDS, what="both budget alerts to page")
        received = {name: webhook.first_time(name) for name in ALERTS}
    finally:
        prometheus.stop()
        exporter.stop()
        alertmanager.stop()
        webhook.stop()
    for name, at in received.items():
        print(f"{name} paged {at - blown:.1f} s after the event")  # shown with -s
        assert at - blown <= LATENCY_SECONDS, f"{name} paged {at - blown:.1f} s after the event"
