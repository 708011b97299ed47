"""hypertool-exporter: Prometheus metrics and traces for LLM persona systems.

Heavy modules load on first use: ``import hypertool_exporter`` and the
recording CLI commands stay fast and never import prometheus_client.
"""

from __future__ import annotations

TYPE_CHECKING = False

__version__ = "0.1.0"

__all__ = [
    "PersonaMetricsCollector",
    "__version__",
    "get_persona_metrics_collector",
]

_LAZY = {
    "PersonaMetricsCollector": "collector",
    "get_persona_metrics_collector": "collector",
}

if TYPE_CHECKING:  # pragma: no cover
    from .collector import PersonaMetricsCollector, get_persona_metrics_collector


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hypertool_exporter' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
