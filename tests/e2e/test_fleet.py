"""A fleet on Prometheus: three exporters share one budget; two Prometheus servers
scrape them and remote-write to a central Prometheus (its remote-write receiver,
the protocol Mimir, Thanos Receive and VictoriaMetrics accept), which evaluates
the shipped rules. The fleet alert reaches Alertmanager; no per-instance alert
fires, since no host is over the budget on its own."""

import json

import pytest
import yaml
from harness.fast_rules import fast_config
from harness.support import (
    AlertmanagerProcess,
    ExporterProcess,
    PrometheusProcess,
    WebhookReceiver,
    run_cli,
    shipped_alertmanager_config,
    wait_for,
)

from hypertool_exporter.bundle.rules import render_rules

BUDGETS = "budgets:\n  shared: {tokens: 5000, period: daily, scope: fleet}\n"


def edge_config(targets: list[str], central: int) -> dict:
    """A Prometheus that scrapes some exporters and forwards everything."""
    return {
        "global": {"scrape_interval": "1s", "external_labels": {"replica": "edge"}},
        "scrape_configs": [{"job_name": "hypertool", "static_configs": [{"targets": targets}]}],
        "remote_write": [
            {
                "url": f"http://127.0.0.1:{central}/api/v1/write",
                "queue_config": {"batch_send_deadline": "1s", "min_backoff": "100ms"},
            }
        ],
    }


def test_a_fleet_budget_alert_travels_through_remote_write(tmp_path):
    config = tmp_path / "budgets.yml"
    config.write_text(BUDGETS)
    exporters = []
    for index in range(3):  # 2,000 tokens each: 6,000 of a shared 5,000
        journal = tmp_path / f"host{index}" / "journal.sqlite"
        journal.parent.mkdir()
        run_cli(
            "tokens", "shared", "--model", "gpt-4", "--input", "2000", "--journal", str(journal)
        )
        run_cli(
            "stage", "release", "test", "--persona", "shared", "--seconds", "3",
            "--gate", "failed", "--journal", str(journal),
        )  # fmt: skip
        exporters.append(ExporterProcess(journal, config))
    webhook = WebhookReceiver()
    alertmanager = AlertmanagerProcess(
        tmp_path / "am", shipped_alertmanager_config(webhook, fast=True)
    )
    rules = tmp_path / "hypertool.rules.yml"
    rules.write_text(render_rules(fast_config()))
    central = PrometheusProcess(
        tmp_path / "central",
        {
            "global": {"evaluation_interval": "1s"},
            "rule_files": [str(rules)],
            "alerting": {
                "alertmanagers": [
                    {"static_configs": [{"targets": [f"127.0.0.1:{alertmanager.port}"]}]}
                ]
            },
        },
        extra_args=("--web.enable-remote-write-receiver",),
    )
    address = [f"127.0.0.1:{e.port}" for e in exporters]
    edges = [
        PrometheusProcess(tmp_path / "edge-a", edge_config(address[:2], central.port)),
        PrometheusProcess(tmp_path / "edge-b", edge_config(address[2:], central.port)),
    ]
    try:
        firing = wait_for(
            lambda: [
                alert
                for _, status, alert in webhook.alerts()
                if status == "firing"
                and alert["labels"]["alertname"] == "PersonaFleetTokenBudgetExceeded"
            ],
            timeout=90,
            what="the fleet alert to reach Alertmanager's webhook",
        )
        labels = firing[0]["labels"]
        assert (labels["persona"], labels["period"]) == ("shared", "daily")
        [remaining] = central.query(
            "persona_period:hypertool_persona_token_budget_fleet_limit:remaining"
        )
        assert float(remaining["value"][1]) == -1000  # 5,000 - 3 x 2,000, the limit once
        assert central.query('ALERTS{alertname=~"PersonaToken.*"}') == []
        # stats for the whole fleet, from the central Prometheus.
        answer = run_cli("stats", "--prometheus", f"http://127.0.0.1:{central.port}", "--json")
        [shared] = json.loads(answer.stdout)
        assert (shared["persona"], shared["input_tokens"], shared["tokens"]) == (
            "shared",
            6000,
            6000,
        )
        assert shared["failed_gates"] == 3  # the gate counter's persona, across the fleet
        # gpt-4 at $30 per 1M input tokens (openai.com/api/pricing): 3 x 2,000 = $0.18
        assert shared["cost_usd"] == pytest.approx(3 * 2000 * 30 / 1e6, abs=1e-9)
        table = run_cli("stats", "--prometheus", f"http://127.0.0.1:{central.port}").stdout
        assert "fleet from http://127.0.0.1" in table and "shared" in table
        assert not [
            a for _, _, a in webhook.alerts() if a["labels"]["alertname"].startswith("PersonaToken")
        ]
    finally:
        for server in (*edges, central, alertmanager):
            server.stop()
        webhook.stop()
        for exporter in exporters:
            exporter.stop()


def test_the_deploy_examples_are_valid_prometheus_configs(tmp_path):
    import subprocess

    from harness.support import REPO, require_binary

    for path in sorted((REPO / "deploy" / "remote-write").glob("*.yml")):
        done = subprocess.run(
            [require_binary("promtool"), "check", "config", str(path)],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, (path.name, done.stdout + done.stderr)
        config = yaml.safe_load(path.read_text())
        if path.name == "vmagent.yml":  # vmagent takes where to write as a flag
            assert "-remoteWrite.url=" in path.read_text()
            assert config["scrape_configs"][0]["job_name"] == "hypertool"
        else:
            assert config["remote_write"], path.name
