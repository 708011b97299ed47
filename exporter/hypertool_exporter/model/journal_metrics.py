"""The exporter's metrics about its journal: lag, size, snapshots, errors,
whether it can be read. Part of the catalog (``catalog.CATALOG`` lists
them), declared here to keep it small; they exist only when the exporter
follows a journal (``JOURNAL_METRICS``).
"""

from __future__ import annotations

from .metricspec import MetricSpec

JOURNAL_LAG_EVENTS = MetricSpec(
    "hypertool_exporter_journal_lag_events",
    "gauge",
    "Events in the journal that the exporter has not applied yet.",
    group="exporter",
)
JOURNAL_LAG_SECONDS = MetricSpec(
    "hypertool_exporter_journal_lag_seconds",
    "gauge",
    "Age of the oldest journal event not applied yet; 0 when caught up.",
    unit="seconds",
    group="exporter",
)
JOURNAL_SIZE = MetricSpec(
    "hypertool_exporter_journal_size_bytes",
    "gauge",
    "Size of the journal file and its write-ahead log.",
    unit="bytes",
    group="exporter",
)
JOURNAL_LAST_SNAPSHOT = MetricSpec(
    "hypertool_exporter_journal_last_snapshot_timestamp_seconds",
    "gauge",
    "Unix time of the last snapshot of the folded state (0 before the first).",
    unit="seconds",
    group="exporter",
)
JOURNAL_LAST_COMPACTION = MetricSpec(
    "hypertool_exporter_journal_last_compaction_timestamp_seconds",
    "gauge",
    "Unix time of the last journal compaction (0 before the first).",
    unit="seconds",
    group="exporter",
)
JOURNAL_ERRORS = MetricSpec(
    "hypertool_exporter_journal_errors_total",
    "counter",
    "Failed journal reads or writes by the exporter (see its log for the cause).",
    group="exporter",
)

JOURNAL_UP = MetricSpec(
    "hypertool_exporter_journal_up",
    "gauge",
    "1 when the exporter can read its journal, 0 while it cannot (see its log).",
    group="exporter",
)

#: Metrics that exist only when the exporter follows a journal.
JOURNAL_METRICS = (
    JOURNAL_UP,
    JOURNAL_LAG_EVENTS,
    JOURNAL_LAG_SECONDS,
    JOURNAL_SIZE,
    JOURNAL_LAST_SNAPSHOT,
    JOURNAL_LAST_COMPACTION,
    JOURNAL_ERRORS,
)


__all__ = [
    "JOURNAL_ERRORS",
    "JOURNAL_LAG_EVENTS",
    "JOURNAL_LAG_SECONDS",
    "JOURNAL_LAST_COMPACTION",
    "JOURNAL_LAST_SNAPSHOT",
    "JOURNAL_METRICS",
    "JOURNAL_SIZE",
    "JOURNAL_UP",
]
