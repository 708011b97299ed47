"""The in-process API that applications call.

``collector`` (``PersonaMetricsCollector``), ``tracing`` (OpenTelemetry
set-up), ``workflow`` (``WorkflowTracer``), ``llm`` (``ObservableLLM``),
``streams`` (the streams it returns), ``usage`` (token usage and text read
from LLM responses), ``langfuse_api`` (the documents' Langfuse-shaped API
over the rest) and ``setup`` (``initialize_observability``).

May import: ``model``, ``fold``, ``journal``, ``exposition``, ``http``,
``app`` and OpenTelemetry.
"""
