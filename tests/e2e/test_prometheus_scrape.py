"""A real Prometheus server scrapes a real exporter and sees the recorded values."""

from support import (
    ExporterProcess,
    PrometheusProcess,
    deploy_prometheus_config,
    run_cli,
    wait_for,
)


def test_prometheus_scrapes_the_exporter(tmp_path, config_file):
    journal = tmp_path / "journal.sqlite"
    env = {"HYPERTOOL_JOURNAL": str(journal)}
    run_cli(
        "tokens",
        "backend-engineer",
        "--model",
        "gpt-4",
        "--input",
        "600",
        "--output",
        "250",
        env=env,
    )
    exporter = ExporterProcess(journal, config_file)
    prometheus = PrometheusProcess(
        tmp_path / "prom", deploy_prometheus_config([f"127.0.0.1:{exporter.port}"])
    )
    try:
        result = wait_for(
            lambda: prometheus.query(
                'hypertool_persona_token_budget_remaining{persona="backend-engineer"}'
            ),
            timeout=30,
            what="Prometheus to scrape the budget gauge",
        )
        assert float(result[0]["value"][1]) == 4150
        assert result[0]["metric"]["job"] == "hypertool"
        up = prometheus.query('up{job="hypertool"}')
        assert float(up[0]["value"][1]) == 1
        targets = prometheus.api("targets")["activeTargets"]
        assert targets[0]["health"] == "up" and not targets[0]["lastError"]
    finally:
        prometheus.stop()
        exporter.stop()
