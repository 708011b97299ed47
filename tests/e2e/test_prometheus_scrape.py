"""A real Prometheus server scrapes a real exporter and sees the recorded values."""

import time

from harness.support import (
    EXAMPLE_TOKENS,
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
        *EXAMPLE_TOKENS,
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


TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def test_prometheus_stores_exemplars_from_the_exporter(tmp_path, config_file):
    """OpenMetrics exemplars from the fast renderer, as Grafana's trace links need."""
    journal = tmp_path / "journal.sqlite"
    env = {"HYPERTOOL_JOURNAL": str(journal)}
    run_cli(
        "llm",
        "backend-engineer",
        "--model",
        "gpt-4",
        "--seconds",
        "1.7",
        "--trace-id",
        TRACE,
        env=env,
    )
    exporter = ExporterProcess(journal, config_file)
    prometheus = PrometheusProcess(
        tmp_path / "prom",
        deploy_prometheus_config([f"127.0.0.1:{exporter.port}"]),
        extra_args=("--enable-feature=exemplar-storage",),
    )
    try:

        def exemplars():
            now = time.time()
            return prometheus.api(
                "query_exemplars",
                query="hypertool_llm_request_duration_seconds_bucket",
                start=str(now - 600),
                end=str(now + 60),
            )

        found = wait_for(exemplars, timeout=30, what="Prometheus to store exemplars")
        stored = [e for series in found for e in series["exemplars"]]
        assert {e["labels"]["trace_id"] for e in stored} == {TRACE}
        assert {float(e["value"]) for e in stored} == {1.7}
        targets = prometheus.api("targets")["activeTargets"]
        assert targets[0]["health"] == "up" and not targets[0]["lastError"]
    finally:
        prometheus.stop()
        exporter.stop()
