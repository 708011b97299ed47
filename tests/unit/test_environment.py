"""What the seed documents promise of the environment: the process-wide collector
reads HYPERTOOL_CONFIG and HYPERTOOL_JOURNAL, tracing starts itself when the
environment names a backend, and flush keeps its deadline."""

import json
import os
import subprocess
import sys
import time

from harness.otlp_receiver import OTLPReceiver
from harness.support import run_cli, wait_for
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from hypertool_exporter.instrument import tracing

APP = """
from hypertool_exporter import get_persona_metrics_collector
collector = get_persona_metrics_collector()
collector.record_token_usage("backend-engineer", "implement", "gpt-4", 600, 250)
from prometheus_client import REGISTRY
print(REGISTRY.get_sample_value(
    "hypertool_persona_token_budget_limit", {"persona": "backend-engineer", "period": "daily"}
))
collector.close()
"""


def test_the_process_wide_collector_reads_config_and_journal_from_the_environment(
    tmp_path, config_file
):
    journal = tmp_path / "app.sqlite"
    env = {**os.environ, "HYPERTOOL_CONFIG": str(config_file), "HYPERTOOL_JOURNAL": str(journal)}
    done = subprocess.run(
        [sys.executable, "-c", APP], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert float(done.stdout.split()[-1]) == 5000  # the config's daily budget, from the env
    stats = run_cli("stats", "--json", "--journal", str(journal), "--config", str(config_file))
    [row] = json.loads(stats.stdout)  # the in-process event is in the journal
    assert (row["persona"], row["tokens"]) == ("backend-engineer", 850)


TRACED_APP = """
from hypertool_exporter import WorkflowTracer, flush
from hypertool_exporter.instrument.collector import PersonaMetricsCollector
with WorkflowTracer("release", collector=PersonaMetricsCollector()) as wf:
    with wf.stage("implement", "backend-engineer") as stage:
        stage.passed = True
print(flush(5000))
"""


def test_tracing_starts_itself_when_the_environment_names_a_backend():
    receiver = OTLPReceiver()
    try:
        env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url}
        env.pop("LANGFUSE_PUBLIC_KEY", None)
        done = subprocess.run(
            [sys.executable, "-c", TRACED_APP], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split()[-1] == "True"
        wait_for(lambda: receiver.by_name("stage implement"), what="the stage span")
        assert receiver.by_name("workflow release")
    finally:
        receiver.stop()


class StuckExporter(SpanExporter):
    """An exporter whose backend never answers in time (a black-holed host)."""

    def export(self, spans):
        time.sleep(5)
        return SpanExportResult.SUCCESS

    def shutdown(self):
        pass


def test_flush_returns_within_its_timeout_whatever_the_network_does():
    tracing.init_tracing(exporter=StuckExporter(), set_global=False)
    try:
        with tracing.get_tracer().start_as_current_span("slow"):
            pass
        started = time.monotonic()
        assert tracing.flush(timeout_millis=300) is False
        assert time.monotonic() - started < 0.8  # 300 ms and a small margin
    finally:
        tracing.state.provider = None  # the stuck exporter is left to its daemon thread
        tracing.state.tracer = None
