"""Views of the folded state for a scrape.

``snapshot`` (one consistent copy of the state, and ``StateCollector`` for
any prometheus_client registry) and ``textformat`` (the fast Prometheus text
and OpenMetrics renderer that ``/metrics`` serves) and ``statuspage`` (the
page at ``/``).

May import: ``model``, ``fold``, ``sync`` (the journal's status) and
prometheus_client.
"""
