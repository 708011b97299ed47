"""hypertool-exporter: Prometheus metrics and traces for LLM persona systems.

Heavy modules load on first use: ``import hypertool_exporter`` and the
recording CLI commands stay fast and never import prometheus_client.
"""

from __future__ import annotations

TYPE_CHECKING = False

__version__ = "0.1.0"

__all__ = [
    "ObservableLLM",
    "PersonaMetricsCollector",
    "WorkflowTracer",
    "__version__",
    "flush",
    "get_persona_metrics_collector",
    "init_tracing",
    "observe_llm",
]

_LAZY = {
    "PersonaMetricsCollector": "collector",
    "get_persona_metrics_collector": "collector",
    "ObservableLLM": "llm",
    "observe_llm": "llm",
    "WorkflowTracer": "workflow",
    "init_tracing": "tracing",
    "flush": "tracing",
}

if TYPE_CHECKING:  # pragma: no cover
    from .collector import PersonaMetricsCollector, get_persona_metrics_collector
    from .llm import ObservableLLM, observe_llm
    from .tracing import flush, init_tracing
    from .workflow import WorkflowTracer


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hypertool_exporter' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
