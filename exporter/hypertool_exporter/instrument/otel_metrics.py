"""OpenTelemetry metrics of the host app on our ``/metrics``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client.registry import CollectorRegistry

if TYPE_CHECKING:
    from opentelemetry.sdk.metrics import MeterProvider


def otel_meter_provider(registry: CollectorRegistry, *, set_global: bool = False) -> MeterProvider:
    """A ``MeterProvider`` whose instruments appear on ``registry``'s scrape (a
    ``PrometheusMetricReader`` on it): host-app instrumentations that emit OTel
    metrics share one ``/metrics`` with ours. ``set_global`` installs it as
    OpenTelemetry's global meter provider."""
    from opentelemetry.exporter.prometheus import PrometheusMetricReader
    from opentelemetry.sdk.metrics import MeterProvider

    provider = MeterProvider(metric_readers=[PrometheusMetricReader(registry=registry)])
    if set_global:
        from opentelemetry import metrics

        metrics.set_meter_provider(provider)
    return provider


__all__ = ["otel_meter_provider"]
