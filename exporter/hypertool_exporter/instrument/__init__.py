"""The in-process API that applications call.

``collector`` (``PersonaMetricsCollector``; its token hot path in
``tokens``, its runs, tool calls and scores in ``work``, its LLM calls in
``calls``, what they all use of it in ``recording``), ``tracing``
(OpenTelemetry set-up), ``workflow`` (``WorkflowTracer``), ``llm``
(``ObservableLLM``; ``call`` is one call it observes), ``streams`` (the
streams it returns), ``usage`` (token usage, text and provider read from
LLM responses), ``langfuse_api`` (the documents'
Langfuse-shaped API over the rest; ``langfuse_plan`` the plan's own calls
on it, ``observation`` the traces and spans it hands out), ``setup`` (``initialize_observability``)
and ``otel_metrics`` (the host app's OpenTelemetry metrics on our scrape).

May import: ``model``, ``fold``, ``journal``, ``exposition``, ``http``,
``app`` and OpenTelemetry.
"""
