"""The HTTP endpoints: ``/``, ``/metrics``, ``/healthz``, ``POST /v1/events``
and ``GET /v1/budgets/{persona}``.

``server`` (the endpoints), ``listener`` (the threading server under them)
and ``connections`` (open connections bounded per source and in total),
``ingest`` (``/v1/events`` bodies), ``budgets`` (a budget's standing and
whether an amount fits), ``otlp`` (OTLP/HTTP trace bodies) and
``spans`` (spans to events, exactly once), ``negotiation`` (Accept and
Accept-Encoding) and ``webconfig`` (TLS and basic auth in exporter-toolkit's
format).

May import: ``model`` and ``exposition``.
"""
