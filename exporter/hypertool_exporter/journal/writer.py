"""Writes from many threads of one process to a journal, through one connection.

The HTTP ingest of ``serve`` and the journalled in-process collector both
append this way, and budget reservations are taken and released through the
same connection. A failed write closes the connection; the next one opens it
again, so a journal that was briefly unusable does not stay broken.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from ..model.budget_check import Held, Reservation
from ..model.events import Event
from .buffer import PendingEvents
from .store import Journal, JournalError

T = TypeVar("T")


class JournalWriter:
    """Thread-safe appends of event batches, one transaction each.

    The journal is opened on first use (``open`` opens it at once, so a bad
    path fails at start-up). ``on_commit(first_id, events)`` hears of every
    committed batch (``on_commit(first_id, events, runs)`` of one with plain
    token records: ``Journal.append``).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        on_commit: Callable[..., None] | None = None,
        on_error: Callable[[], None] | None = None,
        on_success: Callable[[], None] | None = None,
        fsync: bool = True,
    ):
        self._path = path
        #: Whether each commit is fsynced (``Journal``'s ``fsync``).
        self.fsync = fsync
        self._journal: Journal | None = None
        self._lock = threading.Lock()
        #: Told each committed batch (``Journal.append``'s ``appended``): the
        #: tailer of this process, which then folds them without re-reading.
        self.on_commit = on_commit
        #: Told of every failed append, and of every one that went through:
        #: the tailer's status, so a journal ingest cannot write shows as down.
        self.on_error = on_error
        self.on_success = on_success
        #: Events recorded but not committed yet (``buffer``), made on first use.
        self._pending: PendingEvents | None = None

    def open(self) -> None:
        """Open the journal now; ``JournalError`` when it cannot be."""
        self._write(lambda journal: None, count=False)

    def __call__(
        self,
        events: Sequence[Event],
        keys: Sequence[str | None] | None = None,
        *,
        batch_key: str | None = None,
        releases: Sequence[str] = (),
    ) -> int:
        """Append a batch (see ``Journal.append``); returns how many events were new."""
        return self._write(
            lambda journal: journal.append(
                events, keys, batch_key=batch_key, appended=self.on_commit, releases=releases
            )
        )

    def buffer(self, event: Event, release: str | None = None) -> None:
        """Keep ``event`` for a commit within two of the flusher's ticks and
        return at once (``journal.durability: buffered``). Every other use of
        the writer commits what waits first, so none overtakes it."""
        pending = self._pending  # (``is None``: an empty one is falsy)
        if pending is None:
            pending = self.pending()
        pending.add(event, release)

    def pending(self) -> PendingEvents:
        """The events waiting for their commit (made, with its flusher, on first use)."""
        with self._lock:
            if self._pending is None:
                self._pending = PendingEvents(self.flush)
            return self._pending

    def flush(self) -> None:
        """Commit every buffered event now; ``JournalError`` (they still wait) if not."""
        self._write(lambda journal: None)

    def reserve(
        self, wanted: Reservation, now: float, decide: Callable[[Journal, Held], bool]
    ) -> bool:
        """Store a reservation if ``decide(journal, held)`` says it fits
        (``Journal.reserve``; ``decide`` may read the journal)."""
        return self._write(
            lambda journal: journal.reserve(wanted, now, lambda held: decide(journal, held))
        )

    def cancel(self, persona: str, reservation_id: str, now: float) -> bool:
        """Release a live reservation (``Journal.cancel``); whether there was one."""
        return self._write(lambda journal: journal.cancel(persona, reservation_id, now))

    def read(self, read: Callable[[Journal], T]) -> T:
        """``read(journal)`` through this connection, one thread at a time: a
        budget's standing, read where reservations are written."""
        return self._write(read, count=False)

    def _write(self, write: Callable[[Journal], T], *, count: bool = True) -> T:
        with self._lock:
            try:
                if self._journal is None:
                    # Loaded with the first write (``rows.encode`` then encodes
                    # with it), not at import: an idle exporter never needs it.
                    import orjson  # noqa: F401

                    self._journal = Journal(self._path, fsync=self.fsync)
                if self._pending:
                    self._commit_pending(self._journal)
                done = write(self._journal)
            except JournalError:
                if self._journal is not None:
                    self._journal.close()
                    self._journal = None
                if count and self.on_error is not None:
                    self.on_error()
                raise
        if count and self.on_success is not None:
            self.on_success()
        return done

    def _commit_pending(self, journal: Journal) -> None:
        assert self._pending is not None
        events, releases, runs = self._pending.take()
        try:
            journal.append(events, appended=self.on_commit, releases=releases, runs=runs)
        except BaseException:
            self._pending.give_back(events, releases, runs)
            raise

    def close(self) -> None:
        """Commit what waits, then close the connection."""
        if self._pending is not None:
            self._pending.stop()
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None


__all__ = ["JournalWriter"]
