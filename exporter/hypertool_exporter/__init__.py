"""hypertool-exporter: Prometheus metrics and traces for LLM persona systems.

The public API is re-exported here and loaded on first use, so ``import
hypertool_exporter`` and the recording CLI commands stay fast and never
import prometheus_client or OpenTelemetry. The subpackages are the data path:
``model`` (events, catalog, budgets, pricing, config) -> ``journal`` -> ``fold``
-> ``exposition`` / ``http``; ``instrument`` and ``cli`` produce events,
``app`` wires one exporter together, ``bundle`` generates the shipped files.
"""

from __future__ import annotations

from ._version import __version__

TYPE_CHECKING = False

__all__ = [
    "BudgetCheck",
    "BudgetExceeded",
    "Config",
    "EventError",
    "LangfuseIntegration",
    "ObservableLLM",
    "PersonaMetricsCollector",
    "WorkflowTracer",
    "__version__",
    "flush",
    "get_langfuse",
    "get_langfuse_integration",
    "get_persona_metrics_collector",
    "init_tracing",
    "initialize_observability",
    "load_config",
    "observe_llm",
    "set_langfuse_integration",
    "set_persona_metrics_collector",
]

#: Public name -> the module that defines it.
_LAZY = {
    "PersonaMetricsCollector": "instrument.collector",
    "get_persona_metrics_collector": "instrument.collector",
    "set_persona_metrics_collector": "instrument.collector",
    "ObservableLLM": "instrument.llm",
    "observe_llm": "instrument.llm",
    "WorkflowTracer": "instrument.workflow",
    "LangfuseIntegration": "instrument.langfuse_api",
    "get_langfuse": "instrument.langfuse_api",
    "get_langfuse_integration": "instrument.langfuse_api",
    "set_langfuse_integration": "instrument.langfuse_api",
    "initialize_observability": "instrument.setup",
    "init_tracing": "instrument.tracing",
    "flush": "instrument.tracing",
    "BudgetCheck": "model.budget_check",
    "BudgetExceeded": "model.budget_check",
    "Config": "model.config",
    "EventError": "model.fields",
    "load_config": "model.config",
}

if TYPE_CHECKING:  # pragma: no cover
    from .instrument.collector import (
        PersonaMetricsCollector,
        get_persona_metrics_collector,
        set_persona_metrics_collector,
    )
    from .instrument.langfuse_api import (
        LangfuseIntegration,
        get_langfuse,
        get_langfuse_integration,
        set_langfuse_integration,
    )
    from .instrument.llm import ObservableLLM, observe_llm
    from .instrument.setup import initialize_observability
    from .instrument.tracing import flush, init_tracing
    from .instrument.workflow import WorkflowTracer
    from .model.budget_check import BudgetCheck, BudgetExceeded
    from .model.config import Config, load_config
    from .model.fields import EventError


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hypertool_exporter' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
