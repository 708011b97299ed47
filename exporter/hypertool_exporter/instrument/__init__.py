"""The in-process API that applications call.

``collector`` (``PersonaMetricsCollector``), ``tracing`` (OpenTelemetry
set-up), ``workflow`` (``WorkflowTracer``), ``llm`` (``ObservableLLM``) and
``usage`` (token usage read from LLM responses).

May import: ``model``, ``fold``, ``journal``, ``exposition``, ``http``,
``app`` and OpenTelemetry.
"""
