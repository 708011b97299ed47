"""The HTTP endpoints: ``/``, ``/metrics``, ``/healthz`` and ``POST /v1/events``.

``server`` (the handler and server) and ``webconfig`` (TLS and basic auth in
exporter-toolkit's format).

May import: ``model`` and ``exposition``.
"""
