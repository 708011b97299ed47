"""The metrics of work (``model.work``'s events): workflow runs, the cost and
tokens of each workflow stage, tool calls and quality scores. Part of the
catalog (``catalog.CATALOG`` lists them), declared here to keep it small.
"""

from __future__ import annotations

from .fields import RUN_RESULTS, TOKEN_TYPES
from .metricspec import MetricSpec

RUN_DURATION_BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0)
RECOVERY_BUCKETS = (300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 43200.0, 86400.0, 604800.0)
TOOL_DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: Scores are 0..1 by convention: a bucket per tenth.
QUALITY_SCORE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

WORKFLOW_RUNS = MetricSpec(
    "hypertool_workflow_runs_total",
    "counter",
    "Workflow runs that ended, by workflow and result: failed when an exception left the "
    "run or a stage's quality gate failed.",
    ("workflow", "result"),
    closed_values={"result": RUN_RESULTS},
    group="workflow",
)
WORKFLOW_RUN_DURATION = MetricSpec(
    "hypertool_workflow_run_duration_seconds",
    "histogram",
    "Duration of workflow runs, by workflow and result.",
    ("workflow", "result"),
    unit="seconds",
    buckets=RUN_DURATION_BUCKETS,
    closed_values={"result": RUN_RESULTS},
    group="workflow",
)
WORKFLOW_TOKENS = MetricSpec(
    "hypertool_workflow_tokens_total",
    "counter",
    "LLM tokens used by calls made inside a workflow stage, by workflow, stage and token "
    "type (disjoint, as on hypertool_persona_tokens_used_total).",
    ("workflow", "stage", "token_type"),
    closed_values={"token_type": TOKEN_TYPES},
    group="workflow",
)
WORKFLOW_COST = MetricSpec(
    "hypertool_workflow_cost_usd_total",
    "counter",
    "Cost in US dollars of the calls made inside a workflow stage, by workflow and stage.",
    ("workflow", "stage"),
    unit="usd",
    group="workflow",
)
WORKFLOW_RECOVERY = MetricSpec(
    "hypertool_workflow_recovery_seconds",
    "histogram",
    "Time from a workflow's failed run to its next successful run: how long it took to "
    "restore (DORA's time to restore, for a deployment workflow).",
    ("workflow",),
    unit="seconds",
    buckets=RECOVERY_BUCKETS,
    group="workflow",
)
TOOL_CALLS = MetricSpec(
    "hypertool_tool_calls_total",
    "counter",
    "Tool calls made by a persona (an agent), by tool and result.",
    ("persona", "tool", "result"),
    closed_values={"result": RUN_RESULTS},
    group="work",
)
TOOL_DURATION = MetricSpec(
    "hypertool_tool_call_duration_seconds",
    "histogram",
    "Duration of tool calls, errors included.",
    ("persona", "tool"),
    unit="seconds",
    buckets=TOOL_DURATION_BUCKETS,
    group="work",
)
QUALITY_SCORE = MetricSpec(
    "hypertool_quality_score",
    "histogram",
    "Quality scores given to a persona's output by an evaluation (0..1 by convention).",
    ("persona", "evaluation"),
    buckets=QUALITY_SCORE_BUCKETS,
    group="work",
)
EVALUATIONS = MetricSpec(
    "hypertool_evaluations_total",
    "counter",
    "Evaluations of a persona's output, by evaluation and the verdict it gave in words "
    "(label; empty when it gave a score only).",
    ("persona", "evaluation", "label"),
    group="work",
)


__all__ = [
    "EVALUATIONS",
    "QUALITY_SCORE",
    "QUALITY_SCORE_BUCKETS",
    "RECOVERY_BUCKETS",
    "RUN_DURATION_BUCKETS",
    "TOOL_CALLS",
    "TOOL_DURATION",
    "TOOL_DURATION_BUCKETS",
    "WORKFLOW_COST",
    "WORKFLOW_RECOVERY",
    "WORKFLOW_RUNS",
    "WORKFLOW_RUN_DURATION",
    "WORKFLOW_TOKENS",
]
