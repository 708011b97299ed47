"""How the exporter stands with its journal: what the tailer and this
process's writer know, read by ``exposition`` as the
``hypertool_exporter_journal_*`` gauges and by the status page.

A plain record, written by the tailer and the writer's callbacks and read
whole by a scrape: each field is one value, so a reader never sees half an
update of one.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class JournalStatus:
    """How the exporter stands with its journal, kept by the tailer and shown
    by ``exposition`` as the ``hypertool_exporter_journal_*`` gauges."""

    path: Path
    #: The tailer can read the journal.
    readable: bool = True
    #: The last write of this process's ingest went through.
    writable: bool = True
    #: Id of the newest row known: read by the tailer, or committed by this process.
    head_id: int = 0
    #: Id of the newest row folded.
    applied_id: int = 0
    #: Wall time the oldest row not yet folded was found or committed (0: none).
    behind_since: float = 0.0
    size_bytes: int = 0
    last_snapshot: float = 0.0
    last_compaction: float = 0.0

    @property
    def up(self) -> bool:
        """Whether the journal can be both read and written."""
        return self.readable and self.writable

    @property
    def lag_events(self) -> int:
        """Rows committed, by any process the tailer has read or by this one,
        and not folded yet: true between two polls, too."""
        return max(0, self.head_id - self.applied_id)

    @property
    def lag_seconds(self) -> float:
        """Age of the oldest row not folded yet; 0 when caught up."""
        if not self.lag_events or not self.behind_since:
            return 0.0
        return max(0.0, time.time() - self.behind_since)

    def heard(self, head_id: int, since: float) -> None:
        """Rows up to ``head_id`` exist, the oldest unfolded one since ``since``."""
        if head_id > self.head_id:
            if self.head_id <= self.applied_id:
                self.behind_since = since
            self.head_id = head_id

    def measure_size(self) -> None:
        """Size of the journal file and its write-ahead log, read as the tailer
        polls so that a scrape costs no file-system call."""
        size = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                size += os.stat(f"{self.path}{suffix}").st_size
        self.size_bytes = size


__all__ = ["JournalStatus"]
