"""Test and benchmark helpers: free ports, polling with a deadline, the exporter
and the Debian-packaged Prometheus/Alertmanager as subprocesses, a local OTLP
receiver, and a PromQL checker against the catalog. Shared by ``tests/`` and
``bench/``; never shipped in the package."""
