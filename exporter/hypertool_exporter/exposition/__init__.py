"""Views of the folded state for a scrape.

``snapshot`` (one consistent copy of the state, and ``StateCollector`` for
any prometheus_client registry) and ``textformat`` (the fast Prometheus text
and OpenMetrics renderer that ``/metrics`` serves).

May import: ``model``, ``fold``, ``journal`` (the tailer's status type) and
prometheus_client.
"""
