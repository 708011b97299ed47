"""Workflow Performance: which stage was slow, which gate failed, and the LLM calls
behind them."""

from __future__ import annotations

from ...model import catalog as c
from .. import grafana as g
from ..config import BundleConfig


def dashboard(config: BundleConfig) -> g.DashboardSpec:
    """The dashboard, with thresholds from ``config``."""
    stage = f"{c.STAGE_DURATION.name}_bucket{{{g.JOB}, {g.WORKFLOW}}}"
    llm = f"{c.LLM_DURATION.name}_bucket{{{g.JOB}, {g.PERSONA}, {g.MODEL}}}"
    panels = [*_runs(config), *_work(), *_delivery(config)]
    panels += [
        _share(
            config,
            "Quality-gate pass rate",
            "Share of quality gates passed in the range. Red under 80%, yellow under 95%.",
            c.QUALITY_GATE.name,
            'result="passed"',
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


def _share(
    config: BundleConfig, title: str, description: str, metric: str, good: str
) -> g.PanelSpec:
    """A gauge of the share of ``metric``'s increase in the range that is
    ``good``, coloured as the gates' thresholds say."""
    every = f"{metric}{{{g.JOB}, {g.WORKFLOW}}}"
    return g.PanelSpec(
        "gauge",
        title,
        description,
        [
            g.Query(
                f"sum(increase({metric}{{{g.JOB}, {g.WORKFLOW}, {good}}}[{g.RANGE}]))\n/\n"
                f"sum(increase({every}[{g.RANGE}]))",
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
    )


def _runs(config: BundleConfig) -> list[g.PanelSpec]:
    """Runs: how many, how many succeeded, how long they took, what each cost."""
    runs = f"{c.WORKFLOW_RUNS.name}{{{g.JOB}, {g.WORKFLOW}}}"
    cost = f"{c.WORKFLOW_COST.name}{{{g.JOB}, {g.WORKFLOW}}}"
    run_seconds = f"{c.WORKFLOW_RUN_DURATION.name}_bucket{{{g.JOB}, {g.WORKFLOW}}}"
    return [
        _share(
            config,
            "Runs succeeded",
            "Share of workflow runs in the range that succeeded (a run fails when an "
            "exception leaves it or a stage's quality gate fails).",
            c.WORKFLOW_RUNS.name,
            'result="succeeded"',
        ),
        g.PanelSpec(
            "timeseries",
            "Runs by result",
            "Workflow runs ending per second, by workflow and result.",
            [
                g.Query(
                    f"sum by (workflow, result) (rate({runs}[{g.RATE}]))",
                    "{{workflow}} {{result}}",
                )
            ],
            "ops",
            width=18,
        ),
        g.PanelSpec(
            "table",
            "Cost per run",
            "US dollars spent in the range per workflow run that ended in it, by workflow "
            "(the calls made inside its stages).",
            [
                g.Query(
                    f"sort_desc(sum by (workflow) (increase({cost}[{g.RANGE}]))\n/\n"
                    f"sum by (workflow) (increase({runs}[{g.RANGE}])) > 0)",
                    instant=True,
                    fmt="table",
                    column="Per run",
                )
            ],
            "currencyUSD",
            width=8,
        ),
        g.PanelSpec(
            "table",
            "Cost by stage",
            "US dollars spent in the range by the calls made inside each workflow stage: "
            "which stages cost the most.",
            [
                g.Query(
                    f"sort_desc(sum by (workflow, stage) (increase({cost}[{g.RANGE}])) > 0)",
                    instant=True,
                    fmt="table",
                    column="Spent",
                )
            ],
            "currencyUSD",
            width=8,
        ),
        g.PanelSpec(
            "table",
            "Cost per passed gate",
            "US dollars spent in each stage per quality gate it passed, with the persona "
            "that ran it: what a good result costs, persona by stage.",
            [
                g.Query(
                    f"sort_desc(sum by (workflow, stage) (increase({cost}[{g.RANGE}]))\n"
                    f"/ on (workflow, stage) group_right\n"
                    f"sum by (workflow, stage, persona) (increase({c.QUALITY_GATE.name}"
                    f'{{{g.JOB}, {g.WORKFLOW}, result="passed"}}[{g.RANGE}])) > 0)',
                    instant=True,
                    fmt="table",
                    column="Per passed gate",
                )
            ],
            "currencyUSD",
            width=8,
        ),
        g.PanelSpec(
            "timeseries",
            "Run duration p95",
            "p95 duration of workflow runs, by workflow.",
            [
                g.Query(
                    f"histogram_quantile(0.95, sum by (workflow, le) "
                    f"(rate({run_seconds}[{g.RATE}])))",
                    "{{workflow}}",
                )
            ],
            "s",
            width=24,
        ),
    ]


def _work() -> list[g.PanelSpec]:
    """Tool calls and quality scores: how the agents' tools did, how good the output was."""
    tools = f"{c.TOOL_CALLS.name}{{{g.JOB}, {g.PERSONA}}}"
    tool_seconds = f"{c.TOOL_DURATION.name}_bucket{{{g.JOB}, {g.PERSONA}}}"
    scores = f"{c.QUALITY_SCORE.name}_sum{{{g.JOB}, {g.PERSONA}}}"
    scored = f"{c.QUALITY_SCORE.name}_count{{{g.JOB}, {g.PERSONA}}}"
    return [
        g.PanelSpec(
            "timeseries",
            "Tool calls by result",
            "Tool calls per second, by tool and result.",
            [
                g.Query(
                    f"sum by (tool, result) (rate({tools}[{g.RATE}]))",
                    "{{tool}} {{result}}",
                )
            ],
            "ops",
            width=8,
        ),
        g.PanelSpec(
            "timeseries",
            "Tool latency p95",
            "p95 duration of tool calls, by tool.",
            [
                g.Query(
                    f"histogram_quantile(0.95, sum by (tool, le) (rate({tool_seconds}[{g.RATE}])))",
                    "{{tool}}",
                )
            ],
            "s",
            width=8,
        ),
        g.PanelSpec(
            "timeseries",
            "Quality score",
            "Mean score the evaluations gave each persona's output (0..1): quality over time.",
            [
                g.Query(
                    f"sum by (persona, evaluation) (rate({scores}[{g.RATE}]))\n/\n"
                    f"sum by (persona, evaluation) (rate({scored}[{g.RATE}]))",
                    "{{persona}} {{evaluation}}",
                )
            ],
            "percentunit",
            width=8,
            min=0,
            max=1,
        ),
    ]


def _delivery(config: BundleConfig) -> list[g.PanelSpec]:
    """DORA's outcomes from the deployment workflows' runs, and the SLOs' burn."""
    runs = c.WORKFLOW_RUNS.family
    recovery = c.WORKFLOW_RECOVERY.name
    deployments = ", ".join(config.deployment_workflows)
    return [
        g.PanelSpec(
            "stat",
            "Deployments (1d)",
            f"Successful runs of the deployment workflows ({deployments}) over the last day.",
            [g.Query(f"sum(workflow:{runs}:deployments_increase1d{{{g.JOB}}})", instant=True)],
            "short",
            width=6,
        ),
        g.PanelSpec(
            "stat",
            "Change failure rate (7d)",
            "Share of the deployment workflows' runs that failed over the last 7 days.",
            [
                g.Query(
                    f"max(workflow:{runs}:change_failure_ratio_7d{{{g.JOB}, {g.WORKFLOW}}})",
                    instant=True,
                )
            ],
            "percentunit",
            width=6,
            thresholds=g.steps((g.GREEN, None), (g.YELLOW, 0.15), (g.RED, 0.3)),
        ),
        g.PanelSpec(
            "stat",
            "Time to restore (7d mean)",
            "Mean time from a deployment workflow's failed run to its next successful run.",
            [
                g.Query(
                    f"max(workflow:{recovery}:mean_7d{{{g.JOB}, {g.WORKFLOW}}})",
                    instant=True,
                )
            ],
            "s",
            width=6,
        ),
        g.PanelSpec(
            "timeseries",
            "Error budget burn (1h)",
            "How fast each SLO's error budget is spent: 1 spends it in exactly 30 days; "
            "the fast alert pages at 14.4, the slow one opens a ticket at 3.",
            [
                g.Query(
                    f"sum by (job) (job:{c.LLM_ERRORS.family}:ratio_rate1h{{{g.JOB}}})"
                    f" / {1 - config.llm_success_target:g}",
                    "LLM calls {{job}}",
                ),
                g.Query(
                    f"sum by (job) (job:{c.QUALITY_GATE.family}:failure_ratio_rate1h{{{g.JOB}}})"
                    f" / {1 - config.gate_pass_target_ratio:g}",
                    "quality gates {{job}}",
                ),
            ],
            "short",
            width=6,
            min=0,
        ),
    ]


__all__ = ["dashboard"]
