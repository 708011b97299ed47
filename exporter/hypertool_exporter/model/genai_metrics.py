"""The OpenTelemetry GenAI semantic conventions' client metrics, as we emit them.

Names, units and buckets are the conventions' (``gen_ai.client.token.usage``,
``gen_ai.client.operation.duration``,
``gen_ai.client.operation.time_to_first_chunk``, translated to Prometheus
names as the OpenTelemetry Prometheus exporter does); the labels are the
conventions' attributes plus ``persona``, so they join our budgets.
"""

from __future__ import annotations

from .metricspec import MetricSpec

#: The OpenTelemetry GenAI metrics' advised buckets: tokens 1, 4, 16, ... 4^13;
#: seconds 0.01, 0.02, 0.04, ... 81.92.
GENAI_TOKEN_BUCKETS = tuple(float(4**n) for n in range(14))
GENAI_SECONDS_BUCKETS = tuple(round(0.01 * 2**n, 2) for n in range(14))
#: Labels of the GenAI metrics: the conventions' attributes, then our persona.
GENAI_LABELS = ("gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model")
#: Labels whose values spans choose, capped like persona and model.
GENAI_GUARDED = ("operation", "provider", "error_type")


GENAI_TOKEN_USAGE = MetricSpec(
    "gen_ai_client_token_usage",
    "histogram",
    "OpenTelemetry GenAI semantic conventions: tokens per LLM call, input and output (cache "
    "inside input, reasoning inside output), with the persona beside the conventions' labels.",
    (*GENAI_LABELS, "gen_ai_token_type", "persona"),
    buckets=GENAI_TOKEN_BUCKETS,  # unit {token}: an annotation, so no suffix and no UNIT
    closed_values={"gen_ai_token_type": ("input", "output")},
    group="genai",
)
GENAI_DURATION = MetricSpec(
    "gen_ai_client_operation_duration_seconds",
    "histogram",
    "OpenTelemetry GenAI semantic conventions: duration of LLM calls; error_type is set on "
    "failures (empty on success).",
    (*GENAI_LABELS, "error_type", "persona"),
    unit="seconds",
    buckets=GENAI_SECONDS_BUCKETS,
    group="genai",
)
GENAI_TIME_TO_FIRST_CHUNK = MetricSpec(
    "gen_ai_client_operation_time_to_first_chunk_seconds",
    "histogram",
    "OpenTelemetry GenAI semantic conventions: time from the request to the first chunk of a "
    "streamed response.",
    (*GENAI_LABELS, "persona"),
    unit="seconds",
    buckets=GENAI_SECONDS_BUCKETS,
    group="genai",
)


#: The OpenTelemetry GenAI metrics, on unless the config's ``metrics.genai_conventions``
#: is false.
GENAI_METRICS = (GENAI_TOKEN_USAGE, GENAI_DURATION, GENAI_TIME_TO_FIRST_CHUNK)


__all__ = [
    "GENAI_DURATION",
    "GENAI_GUARDED",
    "GENAI_LABELS",
    "GENAI_METRICS",
    "GENAI_SECONDS_BUCKETS",
    "GENAI_TIME_TO_FIRST_CHUNK",
    "GENAI_TOKEN_BUCKETS",
    "GENAI_TOKEN_USAGE",
]
