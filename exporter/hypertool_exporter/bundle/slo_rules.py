"""Error budgets and delivery outcomes: multi-window, multi-burn-rate alerts
on two SLOs, and DORA's figures from deployment runs.

**SLOs.** LLM calls succeed (``llm_success_target``, 99%) and quality gates
pass (``gate_pass_target_ratio``, 95%), per exporter. Their error ratios are
recorded over the windows the SRE workbook's alerts read (5m to 3d), and
two alerts each burn the budget as the workbook's table says: the fast one
pages (14.4x over 1h and 5m: 2% of a 30-day budget in an hour; or 6x over
6h and 30m), the slow one opens a ticket (3x over 1d and 2h; or 1x over 3d
and 6h). The short window of each pair makes the alert resolve soon after
the burn stops; no ``for`` is needed (sloth and pyrra generate the same
shape).

**Delivery outcomes.** Runs of the ``deployment_workflows`` give deployment
frequency (successful runs a day), change failure rate (the share of runs
that failed over 7 days) and time to restore (the mean of
``hypertool_workflow_recovery_seconds`` over 7 days).
"""

from __future__ import annotations

from typing import Any

from ..model import catalog as c
from .config import BundleConfig
from .rule_parts import alert, matchers, with_runbook

#: The windows the burn-rate alerts read.
WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
#: (long window, short window, burn rate) pairs of the fast and the slow alert.
FAST = (("1h", "5m", 14.4), ("6h", "30m", 6.0))
SLOW = (("1d", "2h", 3.0), ("3d", "6h", 1.0))

LLM_ERRORS = f"job:{c.LLM_ERRORS.family}:ratio_rate"
GATE_FAILURES = f"job:{c.QUALITY_GATE.family}:failure_ratio_rate"


def slo_recording(config: BundleConfig) -> list[dict[str, Any]]:
    """The two SLIs' error ratios over every window, per exporter (job)."""
    job = matchers(config.selector)
    failed = matchers(config.selector, 'result="failed"')
    rules = []
    for window in WINDOWS:
        rules += [
            {
                "record": f"{LLM_ERRORS}{window}",
                "expr": f"sum by (job) (rate({c.LLM_ERRORS.name}{job}[{window}]))\n/\n"
                f"sum by (job) (rate({c.LLM_REQUESTS.name}{job}[{window}])) > -1",
            },
            {
                "record": f"{GATE_FAILURES}{window}",
                "expr": f"sum by (job) (rate({c.QUALITY_GATE.name}{failed}[{window}]))\n/\n"
                f"sum by (job) (rate({c.QUALITY_GATE.name}{job}[{window}])) > -1",
            },
        ]
    return rules


def _burning(ratio: str, budget: float, pairs: tuple[tuple[str, str, float], ...]) -> str:
    return "\nor\n".join(
        f"(\n  {ratio}{long} > {rate * budget:g}\nand\n  {ratio}{short} > {rate * budget:g}\n)"
        for long, short, rate in pairs
    )


def slo_alerts(config: BundleConfig) -> list[dict[str, Any]]:
    """The fast (page) and slow (ticket) burn alerts of both SLOs."""
    rules = []
    for name, ratio, target, what in (
        ("LLMErrorBudgetBurn", LLM_ERRORS, config.llm_success_target, "LLM calls succeed"),
        (
            "QualityGateErrorBudgetBurn",
            GATE_FAILURES,
            config.gate_pass_target_ratio,
            "quality gates pass",
        ),
    ):
        budget = 1 - target
        for speed, pairs, severity, said in (
            ("Fast", FAST, "critical", "at a rate that spends 2% of a 30-day budget an hour"),
            ("Slow", SLOW, "warning", "steadily: the 30-day budget will not last"),
        ):
            rules.append(
                alert(
                    f"{name}{speed}",
                    _burning(ratio, budget, pairs),
                    "0s",
                    severity,
                    f"The error budget of the SLO '{what} {target:.0%}' is burning {said}.",
                    "{{ $value | humanizePercentage }} failed over the alert's long window, "
                    f"against a budget of {budget:.0%}.",
                )
            )
    return [with_runbook(config, rule) for rule in rules]


def delivery_recording(config: BundleConfig) -> list[dict[str, Any]]:
    """Deployment frequency, change failure rate and time to restore, from
    the runs of the deployment workflows."""
    deploy = 'workflow=~"' + "|".join(config.deployment_workflows) + '"'
    runs = f"{c.WORKFLOW_RUNS.name}{matchers(config.selector, deploy)}"
    ok, bad = 'result="succeeded"', 'result="failed"'
    succeeded = f"{c.WORKFLOW_RUNS.name}{matchers(config.selector, deploy, ok)}"
    failed = f"{c.WORKFLOW_RUNS.name}{matchers(config.selector, deploy, bad)}"
    recovery = c.WORKFLOW_RECOVERY.name
    selected = matchers(config.selector, deploy)
    return [
        {
            "record": f"workflow:{c.WORKFLOW_RUNS.family}:deployments_increase1d",
            "expr": f"sum by (job, workflow) (increase({succeeded}[1d]))",
        },
        {
            "record": f"workflow:{c.WORKFLOW_RUNS.family}:change_failure_ratio_7d",
            "expr": f"sum by (job, workflow) (increase({failed}[7d]))\n/\n"
            f"sum by (job, workflow) (increase({runs}[7d])) > -1",
        },
        {
            "record": f"workflow:{recovery}:mean_7d",
            "expr": f"sum by (job, workflow) (increase({recovery}_sum{selected}[7d]))\n/\n"
            f"sum by (job, workflow) (increase({recovery}_count{selected}[7d])) > -1",
        },
    ]


__all__ = ["delivery_recording", "slo_alerts", "slo_recording"]
