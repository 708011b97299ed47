"""Workflow Performance: which stage was slow, which gate failed, and the LLM calls
behind them."""

from __future__ import annotations

from ...model import catalog as c
from .. import grafana as g
from ..config import BundleConfig


def dashboard(config: BundleConfig) -> g.DashboardSpec:
    """The dashboard, with thresholds from ``config``."""
    stage = f"{c.STAGE_DURATION.name}_bucket{{{g.JOB}, {g.WORKFLOW}}}"
    gates = f"{c.QUALITY_GATE.name}{{{g.JOB}, {g.WORKFLOW}}}"
    llm = f"{c.LLM_DURATION.name}_bucket{{{g.JOB}, {g.PERSONA}, {g.MODEL}}}"
    panels = [
        g.PanelSpec(
            "gauge",
            "Quality-gate pass rate",
            "Share of quality gates passed in the range. Red under 80%, yellow under 95%.",
            [
                g.Query(
                    f"sum(increase({c.QUALITY_GATE.name}{{{g.JOB}, {g.WORKFLOW}, "
                    f'result="passed"}}[{g.RANGE}]))\n/\nsum(increase({gates}[{g.RANGE}]))',
                    instant=True,
                )
            ],
            "percentunit",
            width=6,
            thresholds=g.steps(
                (g.RED, None),
                (g.YELLOW, config.gate_pass_alert_ratio),
                (g.GREEN, config.gate_pass_target_ratio),
            ),
            min=0,
            max=1,
        ),
        g.PanelSpec(
            "stat",
            "Stages finished",
            "Workflow stages finished in the range.",
            [
                g.Query(
                    f"sum(increase({c.STAGE_DURATION.name}_count{{{g.JOB}, {g.WORKFLOW}}}"
                    f"[{g.RANGE}]))"
                )
            ],
            "short",
            width=6,
        ),
        g.PanelSpec(
            "table",
            "Failed gates",
            "Failed quality gates in the range, by stage and the persona that ran it.",
            [
                g.Query(
                    f"sort_desc(sum by (workflow, stage, persona) (increase({c.QUALITY_GATE.name}"
                    f'{{{g.JOB}, {g.WORKFLOW}, result="failed"}}[{g.RANGE}])) > 0)',
                    instant=True,
                    fmt="table",
                    column="Failed",
                )
            ],
            "short",
            width=12,
        ),
        g.PanelSpec(
            "heatmap",
            "Stage duration",
            "Distribution of stage durations over time.",
            [g.Query(f"sum by (le) (increase({stage}[{g.RATE}]))", "{{le}}", fmt="heatmap")],
            "s",
            width=24,
        ),
        g.PanelSpec(
            "timeseries",
            "Stage duration p50 / p95",
            "Per workflow stage.",
            [
                g.Query(
                    f"histogram_quantile(0.95, sum by (workflow, stage, le) "
                    f"(rate({stage}[{g.RATE}])))",
                    "p95 {{workflow}}/{{stage}}",
                ),
                g.Query(
                    f"histogram_quantile(0.5, sum by (workflow, stage, le) "
                    f"(rate({stage}[{g.RATE}])))",
                    "p50 {{workflow}}/{{stage}}",
                ),
            ],
            "s",
        ),
        g.PanelSpec(
            "timeseries",
            "Stage p95 (5m, recorded)",
            "From the recording rule workflow_stage:...:p95_rate5m.",
            [
                g.Query(
                    f"workflow_stage:{c.STAGE_DURATION.name}:p95_rate5m{{{g.JOB}, {g.WORKFLOW}}}",
                    "{{workflow}}/{{stage}}",
                )
            ],
            "s",
        ),
        g.PanelSpec(
            "timeseries",
            "LLM latency p95",
            "p95 latency of LLM calls by model. Exemplars link to traces.",
            [
                g.Query(
                    f"histogram_quantile(0.95, sum by (model, le) (rate({llm}[{g.RATE}])))",
                    "{{model}}",
                    exemplar=True,
                )
            ],
            "s",
        ),
        g.PanelSpec(
            "timeseries",
            "LLM error rate",
            "Share of LLM calls that failed.",
            [
                g.Query(
                    f"sum by (persona, model) (rate({c.LLM_ERRORS.name}"
                    f"{{{g.JOB}, {g.PERSONA}, {g.MODEL}}}[{g.RATE}]))\n/\n"
                    f"sum by (persona, model) (rate({c.LLM_REQUESTS.name}"
                    f"{{{g.JOB}, {g.PERSONA}, {g.MODEL}}}[{g.RATE}]))",
                    "{{persona}} / {{model}}",
                )
            ],
            "percentunit",
            min=0,
        ),
        g.PanelSpec(
            "timeseries",
            "Time to first chunk p95",
            "p95 time from request to the first chunk of streamed LLM responses, by model "
            "(the OpenTelemetry GenAI metric): what a user waits before text appears.",
            [
                g.Query(
                    f"histogram_quantile(0.95, sum by (gen_ai_request_model, le) "
                    f"(rate({c.GENAI_TIME_TO_FIRST_CHUNK.name}_bucket{{{g.JOB}, {g.PERSONA}, "
                    f'gen_ai_request_model=~"$model"}}[{g.RATE}])))',
                    "{{gen_ai_request_model}}",
                )
            ],
            "s",
            width=24,
        ),
    ]
    return g.DashboardSpec(
        "workflow-performance",
        "Hypertool / Workflow Performance",
        "Which stage was slow, which gate failed, how the LLM calls behind them did.",
        ["workflow", "persona", "model"],
        panels,
    )


__all__ = ["dashboard"]
