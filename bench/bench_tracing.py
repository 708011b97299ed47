"""Traced stage overhead: a ``WorkflowTracer`` stage (span + metrics + exemplar).

Measured with a real SDK tracer provider whose exporter discards spans
(a batch processor, as in production), against a hand-instrumented stage
with plain prometheus_client (one histogram observation and one counter
increment, cached children) measured in the same run.
"""

from __future__ import annotations

from collections.abc import Sequence

from common import Result, per_call
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from prometheus_client import CollectorRegistry, Counter, Histogram

from hypertool_exporter.instrument import tracing
from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.instrument.workflow import WorkflowTracer

TARGET_US = 50.0


class DiscardingExporter(SpanExporter):
    def export(self, spans: Sequence) -> SpanExportResult:
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def run(quick: bool = False) -> list[Result]:
    calls = 2_000 if quick else 20_000
    tracing.init_tracing(exporter=DiscardingExporter(), set_global=False)
    collector = PersonaMetricsCollector(CollectorRegistry())
    try:
        with WorkflowTracer("bench", collector=collector) as wf:

            def traced_stage() -> None:
                with wf.stage("build", "backend-engineer") as stage:
                    stage.passed = True

            traced = per_call(traced_stage, calls)
            tracer = tracing.get_tracer()
            attributes = {
                "hypertool.stage.name": "build",
                **tracing.identity_attributes("backend-engineer", None),
            }

            def bare_span() -> None:
                with tracer.start_as_current_span("stage build", attributes=attributes) as span:
                    span.set_attribute("hypertool.quality_gate.result", "passed")

            bare = per_call(bare_span, calls)
    finally:
        tracing.shutdown_tracing()

    registry = CollectorRegistry()
    hist = Histogram("stage_seconds", "", ["workflow", "stage", "persona"], registry=registry)
    gate = Counter("gate", "", ["workflow", "stage", "result"], registry=registry)
    h_child = hist.labels("bench", "build", "backend-engineer")
    g_child = gate.labels("bench", "build", "passed")

    def plain_stage() -> None:
        h_child.observe(1.0)
        g_child.inc()

    plain = per_call(plain_stage, calls)
    return [
        Result(
            "traced stage (span + metrics) vs plain prometheus_client stage",
            traced * 1e6,
            plain * 1e6,
            "us",
            f"<= {TARGET_US:.0f} us",
            traced * 1e6 <= TARGET_US,
        ),
        Result(
            "traced stage vs a bare SDK span with the same attributes",
            traced * 1e6,
            bare * 1e6,
            "us",
            "(the SDK's share)",
            None,
        ),
    ]
