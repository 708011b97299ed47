"""The HTTP endpoints: ``/``, ``/metrics``, ``/healthz``, ``POST /v1/events``,
OTLP traces and logs, and the budget API.

``server`` (the endpoints), ``listener`` (the threading server under them)
and ``connections`` (open connections bounded per source and in total),
``ingest`` (``/v1/events`` bodies), ``budgets`` (a budget's standing and
whether an amount fits), ``otlp_paths`` (the OTLP paths, for routing),
``otlp`` (OTLP/HTTP trace bodies), ``otlp_logs`` (OTLP
log bodies: evaluation events), ``span_mapping`` (spans to events, with no
shared state), ``mapping_pool`` (worker processes that map large exports)
and ``spans`` (spans and evaluation records to the journal, exactly once),
``negotiation`` (Accept and
Accept-Encoding) and ``webconfig`` (TLS and basic auth in exporter-toolkit's
format).

May import: ``model`` and ``exposition``.
"""
