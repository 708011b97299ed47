"""The ground floor: names, types, validation and constants, each defined once.

``events`` (the typed events and the one validator), ``catalog`` (every
metric), ``budgets`` (UTC periods), ``pricing`` and ``config``.

May import: the standard library, PyYAML (``config`` only) and ``_version``;
nothing else of this package. ``events`` is on the recording CLI's fast path
and imports the standard library alone. This file imports nothing, so
``import hypertool_exporter.model.events`` stays cheap.
"""
