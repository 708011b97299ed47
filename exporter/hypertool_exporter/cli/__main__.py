"""``python -m hypertool_exporter.cli``: the same as the ``hypertool-exporter`` command."""

from .main import entry

entry()
