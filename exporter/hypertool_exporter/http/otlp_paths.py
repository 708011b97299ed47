"""The OTLP/HTTP paths the server answers. Apart from ``otlp`` and
``otlp_logs``, which decode what arrives there, so routing a request loads
neither: an exporter that gets no OTLP export never needs them."""

from __future__ import annotations

#: Paths that accept OTLP trace exports: the standard one and Langfuse's.
TRACE_PATHS = ("/v1/traces", "/api/public/otel/v1/traces")
#: Log exports: GenAI evaluation results (``otlp_logs``).
LOG_PATHS = ("/v1/logs",)
#: Metric exports: accepted and left alone (``server``).
METRIC_PATHS = ("/v1/metrics", "/api/public/otel/v1/metrics")

__all__ = ["LOG_PATHS", "METRIC_PATHS", "TRACE_PATHS"]
