"""Appends from many threads of one process to a journal, through one connection.

The HTTP ingest of ``serve`` and the journalled in-process collector both
write this way. A failed append closes the connection; the next append opens
it again, so a journal that was briefly unusable does not stay broken.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import orjson  # noqa: F401  (loaded: ``rows.encode`` then encodes with it)

from ..model.events import Event
from .store import Journal, JournalError


class JournalWriter:
    """Thread-safe appends of event batches, one transaction each.

    ``open_now`` opens the journal at once, so a bad path fails at start-up;
    otherwise it is opened on first use. ``on_commit(first_id, events)``
    hears of every committed batch.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        open_now: bool = False,
        on_commit: Callable[[int, list[Event]], None] | None = None,
        on_error: Callable[[], None] | None = None,
        on_success: Callable[[], None] | None = None,
    ):
        self._path = path
        self._journal: Journal | None = Journal(path) if open_now else None
        self._lock = threading.Lock()
        #: Told each committed batch (``Journal.append``'s ``appended``): the
        #: tailer of this process, which then folds them without re-reading.
        self.on_commit = on_commit
        #: Told of every failed append, and of every one that went through:
        #: the tailer's status, so a journal ingest cannot write shows as down.
        self.on_error = on_error
        self.on_success = on_success

    def __call__(
        self,
        events: Sequence[Event],
        keys: Sequence[str | None] | None = None,
        *,
        batch_key: str | None = None,
    ) -> int:
        """Append a batch (see ``Journal.append``); returns how many events were new."""
        with self._lock:
            try:
                if self._journal is None:
                    self._journal = Journal(self._path)
                new = self._journal.append(
                    events, keys, batch_key=batch_key, appended=self.on_commit
                )
            except JournalError:
                if self._journal is not None:
                    self._journal.close()
                    self._journal = None
                if self.on_error is not None:
                    self.on_error()
                raise
        if self.on_success is not None:
            self.on_success()
        return new

    def close(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None


__all__ = ["JournalWriter"]
