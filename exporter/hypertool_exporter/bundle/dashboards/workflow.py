"""Workflow Performance: which stage was slow, which gate failed, and the LLM calls
behind them."""

from __future__ import annotations

from ...model import catalog as c
from ..config import BundleConfig
from ..grafana import (
    GREEN,
    JOB,
    MODEL,
    PERSONA,
    RANGE,
    RATE,
    RED,
    WORKFLOW,
    YELLOW,
    DashboardSpec,
    PanelSpec,
    Query,
    steps,
)


def dashboard(config: BundleConfig) -> DashboardSpec:
    """The dashboard, with thresholds from ``config``."""
    stage = f"{c.STAGE_DURATION.name}_bucket{{{JOB}, {WORKFLOW}}}"
    gates = f"{c.QUALITY_GATE.name}{{{JOB}, {WORKFLOW}}}"
    llm = f"{c.LLM_DURATION.name}_bucket{{{JOB}, {PERSONA}, {MODEL}}}"
    panels = [
        PanelSpec(
            "gauge",
            "Quality-gate pass rate",
            "Share of quality gates passed in the range. Red under 80%, yellow under 95%.",
            [
                Query(
                    f"sum(increase({c.QUALITY_GATE.name}{{{JOB}, {WORKFLOW}, "
                    f'result="passed"}}[{RANGE}]))\n/\nsum(increase({gates}[{RANGE}]))',
                    instant=True,
                )
            ],
            "percentunit",
            width=6,
            thresholds=steps(
                (RED, None),
                (YELLOW, config.gate_pass_alert_ratio),
                (GREEN, config.gate_pass_target_ratio),
            ),
            min=0,
            max=1,
        ),
        PanelSpec(
            "stat",
            "Stages finished",
            "Workflow stages finished in the range.",
            [Query(f"sum(increase({c.STAGE_DURATION.name}_count{{{JOB}, {WORKFLOW}}}[{RANGE}]))")],
            "short",
            width=6,
        ),
        PanelSpec(
            "table",
            "Failed gates",
            "Failed quality gates in the range, by stage.",
            [
                Query(
                    f"sort_desc(sum by (workflow, stage) (increase({c.QUALITY_GATE.name}"
                    f'{{{JOB}, {WORKFLOW}, result="failed"}}[{RANGE}])) > 0)',
                    instant=True,
                    fmt="table",
                )
            ],
            "short",
            width=12,
        ),
        PanelSpec(
            "heatmap",
            "Stage duration",
            "Distribution of stage durations over time.",
            [Query(f"sum by (le) (increase({stage}[{RATE}]))", "{{le}}", fmt="heatmap")],
            "s",
            width=24,
        ),
        PanelSpec(
            "timeseries",
            "Stage duration p50 / p95",
            "Per workflow stage.",
            [
                Query(
                    f"histogram_quantile(0.95, sum by (workflow, stage, le) "
                    f"(rate({stage}[{RATE}])))",
                    "p95 {{workflow}}/{{stage}}",
                ),
                Query(
                    f"histogram_quantile(0.5, sum by (workflow, stage, le) "
                    f"(rate({stage}[{RATE}])))",
                    "p50 {{workflow}}/{{stage}}",
                ),
            ],
            "s",
        ),
        PanelSpec(
            "timeseries",
            "Stage p95 (5m, recorded)",
            "From the recording rule workflow_stage:...:p95_rate5m.",
            [
                Query(
                    f"workflow_stage:{c.STAGE_DURATION.name}:p95_rate5m{{{JOB}, {WORKFLOW}}}",
                    "{{workflow}}/{{stage}}",
                )
            ],
            "s",
        ),
        PanelSpec(
            "timeseries",
            "LLM latency p95",
            "p95 latency of LLM calls by model. Exemplars link to traces.",
            [
                Query(
                    f"histogram_quantile(0.95, sum by (model, le) (rate({llm}[{RATE}])))",
                    "{{model}}",
                    exemplar=True,
                )
            ],
            "s",
        ),
        PanelSpec(
            "timeseries",
            "LLM error rate",
            "Share of LLM calls that failed.",
            [
                Query(
                    f"sum by (persona, model) (rate({c.LLM_ERRORS.name}"
                    f"{{{JOB}, {PERSONA}, {MODEL}}}[{RATE}]))\n/\n"
                    f"sum by (persona, model) (rate({c.LLM_REQUESTS.name}"
                    f"{{{JOB}, {PERSONA}, {MODEL}}}[{RATE}]))",
                    "{{persona}} / {{model}}",
                )
            ],
            "percentunit",
            min=0,
        ),
        PanelSpec(
            "timeseries",
            "Time to first chunk p95",
            "p95 time from request to the first chunk of streamed LLM responses, by model "
            "(the OpenTelemetry GenAI metric): what a user waits before text appears.",
            [
                Query(
                    f"histogram_quantile(0.95, sum by (gen_ai_request_model, le) "
                    f"(rate({c.GENAI_TIME_TO_FIRST_CHUNK.name}_bucket{{{JOB}, {PERSONA}, "
                    f'gen_ai_request_model=~"$model"}}[{RATE}])))',
                    "{{gen_ai_request_model}}",
                )
            ],
            "s",
            width=24,
        ),
    ]
    return DashboardSpec(
        "workflow-performance",
        "Hypertool / Workflow Performance",
        "Which stage was slow, which gate failed, how the LLM calls behind them did.",
        ["workflow", "persona", "model"],
        panels,
    )


__all__ = ["dashboard"]
