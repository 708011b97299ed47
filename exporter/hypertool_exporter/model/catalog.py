"""Every metric the exporter emits, declared once.

The collector renders from these specs, the dashboards and alert rules are
checked against them, and the README's metric table is generated from them.
A metric that is not here does not exist; a label value outside a closed set
declared here is never emitted.

This module imports nothing heavy: the CLI and the bundle generators read it
without pulling in prometheus_client.
"""

from __future__ import annotations

from .budgets import PERIODS
from .events import EVENT_TYPES
from .fields import (
    GATE_RESULTS,
    NO_PERSONA,
    OVERFLOW_VALUE,
    REJECT_REASONS,
    TOKEN_TYPES,
)
from .genai_metrics import (
    GENAI_DURATION,
    GENAI_GUARDED,
    GENAI_LABELS,
    GENAI_METRICS,
    GENAI_TIME_TO_FIRST_CHUNK,
    GENAI_TOKEN_USAGE,
)
from .journal_metrics import (
    JOURNAL_ERRORS,
    JOURNAL_LAG_EVENTS,
    JOURNAL_LAG_SECONDS,
    JOURNAL_LAST_COMPACTION,
    JOURNAL_LAST_SNAPSHOT,
    JOURNAL_METRICS,
    JOURNAL_SIZE,
    JOURNAL_UP,
)
from .metricspec import MetricSpec
from .pricing import PRICE_SOURCES, REPORTED_SOURCES
from .work_metrics import (
    EVALUATIONS,
    QUALITY_SCORE,
    TOOL_CALLS,
    TOOL_DURATION,
    WORKFLOW_COST,
    WORKFLOW_RECOVERY,
    WORKFLOW_RUN_DURATION,
    WORKFLOW_RUNS,
    WORKFLOW_TOKENS,
)

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: the CLI reads this module
    from typing import Any

PREFIX = "hypertool_"

#: Labels whose distinct values are capped (``fold.cardinality``).
#: (``operation``, ``provider`` and ``error_type`` are those of the GenAI metrics.)
GUARDED_LABELS = (
    "persona",
    "chatmode",
    "model",
    "workflow",
    "stage",
    "tool",
    "evaluation",
    "label",
    *GENAI_GUARDED,
)

PERSONA_DURATION_BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
STAGE_DURATION_BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
LLM_DURATION_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


def _spec(*args: Any, **kwargs: Any) -> MetricSpec:
    return MetricSpec(*args, **kwargs)


PERSONA_SWITCHES = _spec(
    "hypertool_persona_switches_total",
    "counter",
    "Persona switches, by the persona left, the persona entered and the chat mode entered.",
    ("from_persona", "to_persona", "chatmode"),
)
PERSONA_DURATION = _spec(
    "hypertool_persona_duration_seconds",
    "histogram",
    "Time spent in a persona, observed when it is left, under the chat mode it was in.",
    ("persona", "chatmode"),
    unit="seconds",
    buckets=PERSONA_DURATION_BUCKETS,
)
PERSONA_TOKENS = _spec(
    "hypertool_persona_tokens_used_total",
    "counter",
    "LLM tokens used, by persona, chat mode, model and token type. The types are disjoint: "
    "input (not from a cache), cache_read, cache_write, output (not reasoning) and reasoning; "
    "their sum counts every billable token once.",
    ("persona", "chatmode", "model", "token_type"),
    closed_values={"token_type": TOKEN_TYPES},
)
PERSONA_COST = _spec(
    "hypertool_persona_cost_usd_total",
    "counter",
    "Cost of the tokens used in US dollars: the provider's reported cost where given, else "
    "estimated from the config's prices or genai-prices, else an instrumentation's own "
    "estimate.",
    ("persona", "chatmode", "model"),
    unit="usd",
)
BUDGET_LIMIT = _spec(
    "hypertool_persona_token_budget_limit",
    "gauge",
    "Token budget of a persona for one period, held on this exporter alone (scope: instance).",
    ("persona", "period"),
    closed_values={"period": PERIODS},
    group="budget",
)
FLEET_BUDGET_LIMIT = _spec(
    "hypertool_persona_token_budget_fleet_limit",
    "gauge",
    "Token budget of a persona for one period, shared by every exporter that reports the "
    "persona (scope: fleet); its usage is added up across exporters by recording rules.",
    ("persona", "period"),
    closed_values={"period": PERIODS},
    group="budget",
)
BUDGET_USED = _spec(
    "hypertool_persona_token_budget_used",
    "gauge",
    "Tokens used by a persona in the current budget period.",
    ("persona", "period"),
    closed_values={"period": PERIODS},
    group="budget",
)
BUDGET_REMAINING = _spec(
    "hypertool_persona_token_budget_remaining",
    "gauge",
    "Tokens left in the current budget period; negative when overspent (never clamped).",
    ("persona",),
    group="budget",
)
BUDGET_RESET = _spec(
    "hypertool_persona_token_budget_reset_seconds",
    "gauge",
    "Seconds until the budget period resets (UTC calendar); absent for period=total.",
    ("persona",),
    unit="seconds",
    group="budget",
)
COST_BUDGET_LIMIT = _spec(
    "hypertool_persona_cost_budget_limit_usd",
    "gauge",
    "Spending budget of a persona for one period in US dollars (when configured).",
    ("persona", "period"),
    unit="usd",
    closed_values={"period": PERIODS},
    group="budget",
)
COST_BUDGET_USED = _spec(
    "hypertool_persona_cost_budget_used_usd",
    "gauge",
    "US dollars spent by a persona in the current budget period (when configured).",
    ("persona", "period"),
    unit="usd",
    closed_values={"period": PERIODS},
    group="budget",
)
COST_BUDGET_REMAINING = _spec(
    "hypertool_persona_cost_budget_remaining_usd",
    "gauge",
    "US dollars left in the current budget period; negative when overspent.",
    ("persona",),
    unit="usd",
    group="budget",
)
FLEET_COST_BUDGET_LIMIT = _spec(
    "hypertool_persona_cost_budget_fleet_limit_usd",
    "gauge",
    "Spending budget of a persona for one period in US dollars, shared by every exporter "
    "that reports the persona (scope: fleet); its spend is added up across exporters by "
    "recording rules.",
    ("persona", "period"),
    unit="usd",
    closed_values={"period": PERIODS},
    group="budget",
)
STAGE_DURATION = _spec(
    "hypertool_workflow_stage_duration_seconds",
    "histogram",
    "Duration of a workflow stage, by workflow, stage and the persona that ran it.",
    ("workflow", "stage", "persona"),
    unit="seconds",
    buckets=STAGE_DURATION_BUCKETS,
    group="workflow",
)
QUALITY_GATE = _spec(
    "hypertool_workflow_quality_gate_total",
    "counter",
    "Quality-gate verdicts at the end of workflow stages, by the persona that ran the stage.",
    ("workflow", "stage", "result", "persona"),
    closed_values={"result": GATE_RESULTS},
    group="workflow",
)
LLM_DURATION = _spec(
    "hypertool_llm_request_duration_seconds",
    "histogram",
    "Latency of LLM calls, errors included.",
    ("persona", "model"),
    unit="seconds",
    buckets=LLM_DURATION_BUCKETS,
    group="llm",
)
LLM_REQUESTS = _spec(
    "hypertool_llm_requests_total",
    "counter",
    "LLM calls made, errors included.",
    ("persona", "model"),
    group="llm",
)
LLM_ERRORS = _spec(
    "hypertool_llm_request_errors_total",
    "counter",
    "LLM calls that failed.",
    ("persona", "model"),
    group="llm",
)
LLM_USAGE_UNKNOWN = _spec(
    "hypertool_llm_usage_unknown_total",
    "counter",
    "Successful LLM calls whose response reported no token usage; their tokens are not "
    "counted (never estimated).",
    ("persona", "model"),
    group="llm",
)
PERSONA_REPORTED_COST = _spec(
    "hypertool_persona_reported_cost_usd_total",
    "counter",
    "The part of the cost in US dollars not priced here: reported by the provider (or the "
    "app) for the call itself (source=provider), or an instrumentation's estimate for a model "
    "with no price here (source=instrumentation); the rest of hypertool_persona_cost_usd_total "
    "is priced from the config or genai-prices.",
    ("persona", "chatmode", "model", "source"),
    unit="usd",
    closed_values={"source": REPORTED_SOURCES},
)
PERSONA_UNPRICED_TOKENS = _spec(
    "hypertool_persona_unpriced_tokens_total",
    "counter",
    "Tokens of models with no price (in the config or genai-prices) and no reported cost; "
    "their cost is not counted.",
    ("persona", "model"),
)
MODEL_PRICE_INFO = _spec(
    "hypertool_model_price_info",
    "info",
    "Where each model's price comes from: config, genai-prices (with the date of its price "
    "data), instrumentation (no price here; the instrumentation's estimates are used) or none.",
    ("model", "source", "price_data_date"),
    closed_values={"source": PRICE_SOURCES},
    group="llm",
)
PRICE_DATA_TIMESTAMP = _spec(
    "hypertool_price_data_timestamp_seconds",
    "gauge",
    "Unix time of the newest price change in the genai-prices data in use (its age).",
    unit="seconds",
    group="exporter",
)
BUILD_INFO = _spec(
    "hypertool_exporter_build_info",
    "info",
    "Version of the exporter and of Python it runs on.",
    ("version", "python_version"),
    group="exporter",
)
EVENTS_APPLIED = _spec(
    "hypertool_exporter_events_applied_total",
    "counter",
    "Events applied to the metrics, by event type.",
    ("type",),
    closed_values={"type": EVENT_TYPES},
    group="exporter",
)
EVENTS_REJECTED = _spec(
    "hypertool_exporter_events_rejected_total",
    "counter",
    "Events rejected by validation, by reason.",
    ("reason",),
    closed_values={"reason": REJECT_REASONS},
    group="exporter",
)
LABEL_VALUES_FOLDED = _spec(
    "hypertool_exporter_label_values_folded_total",
    "counter",
    f"Label values replaced by {OVERFLOW_VALUE!r} because the label reached its cap of "
    "distinct values, counted once per event that carried one.",
    ("label",),
    closed_values={"label": GUARDED_LABELS},
    group="exporter",
)

CATALOG: tuple[MetricSpec, ...] = (
    PERSONA_SWITCHES,
    PERSONA_DURATION,
    PERSONA_TOKENS,
    PERSONA_COST,
    BUDGET_LIMIT,
    FLEET_BUDGET_LIMIT,
    BUDGET_USED,
    BUDGET_REMAINING,
    BUDGET_RESET,
    COST_BUDGET_LIMIT,
    COST_BUDGET_USED,
    COST_BUDGET_REMAINING,
    FLEET_COST_BUDGET_LIMIT,
    STAGE_DURATION,
    QUALITY_GATE,
    WORKFLOW_RUNS,
    WORKFLOW_RUN_DURATION,
    WORKFLOW_RECOVERY,
    WORKFLOW_TOKENS,
    WORKFLOW_COST,
    TOOL_CALLS,
    TOOL_DURATION,
    QUALITY_SCORE,
    EVALUATIONS,
    LLM_DURATION,
    LLM_REQUESTS,
    LLM_ERRORS,
    LLM_USAGE_UNKNOWN,
    PERSONA_REPORTED_COST,
    PERSONA_UNPRICED_TOKENS,
    GENAI_TOKEN_USAGE,
    GENAI_DURATION,
    GENAI_TIME_TO_FIRST_CHUNK,
    MODEL_PRICE_INFO,
    BUILD_INFO,
    PRICE_DATA_TIMESTAMP,
    EVENTS_APPLIED,
    EVENTS_REJECTED,
    LABEL_VALUES_FOLDED,
    *JOURNAL_METRICS,
)

BY_NAME: dict[str, MetricSpec] = {spec.name: spec for spec in CATALOG}


def lookup_sample(sample_name: str) -> MetricSpec | None:
    """Find the spec that produces ``sample_name`` (``_bucket``/``_sum``/``_count`` included)."""
    for spec in CATALOG:
        if sample_name in spec.sample_names():
            return spec
    return None


__all__ = [
    "BY_NAME",
    "CATALOG",
    "EVALUATIONS",
    "GENAI_DURATION",
    "GENAI_LABELS",
    "GENAI_METRICS",
    "GENAI_TIME_TO_FIRST_CHUNK",
    "GENAI_TOKEN_USAGE",
    "GUARDED_LABELS",
    "JOURNAL_ERRORS",
    "JOURNAL_LAG_EVENTS",
    "JOURNAL_LAG_SECONDS",
    "JOURNAL_LAST_COMPACTION",
    "JOURNAL_LAST_SNAPSHOT",
    "JOURNAL_METRICS",
    "JOURNAL_SIZE",
    "JOURNAL_UP",
    "NO_PERSONA",
    "OVERFLOW_VALUE",
    "PREFIX",
    "QUALITY_SCORE",
    "TOOL_CALLS",
    "TOOL_DURATION",
    "WORKFLOW_COST",
    "WORKFLOW_RECOVERY",
    "WORKFLOW_RUNS",
    "WORKFLOW_RUN_DURATION",
    "WORKFLOW_TOKENS",
    "MetricSpec",
    "lookup_sample",
]
