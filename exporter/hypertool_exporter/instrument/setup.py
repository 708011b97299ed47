"""``initialize_observability``: the plan's one start-up call for an app.

It does only what the parts already do, in one place: tracing from the
environment under the app's service name (``init_tracing``) and, when asked,
``/metrics`` served from the app's own process (``collector.serve``).
"""

from __future__ import annotations

from ..app import DEFAULT_PORT
from . import tracing
from .collector import PersonaMetricsCollector, get_persona_metrics_collector


def initialize_observability(
    service_name: str = "hypertool",
    enable_prometheus: bool = True,
    prometheus_port: int = DEFAULT_PORT,
    *,
    host: str = "127.0.0.1",
) -> PersonaMetricsCollector:
    """Set up tracing (unless already set up) and serve the process-wide
    collector's ``/metrics`` on ``host:prometheus_port`` when
    ``enable_prometheus``; returns the collector (``serve`` gives the port
    actually bound, for ``prometheus_port=0``)."""
    if tracing.state.provider is None:
        tracing.init_tracing(service_name)
    collector = get_persona_metrics_collector()
    if enable_prometheus:
        collector.serve(prometheus_port, host)
    return collector


__all__ = ["initialize_observability"]
