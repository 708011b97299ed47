"""Durable in-process recording at the cost of a deque append.

A journalled collector at ``journal.durability: buffered`` hands each event
to its journal writer (``JournalWriter.buffer``), which keeps it here and
returns: no transaction, no syscall on the caller's thread. The caller whose
event makes a multiple of ``batch`` wait commits them itself, so a producer
cannot run ahead of the journal by more than a batch and the commit in
flight. A flusher thread ticks every ``interval`` seconds and has the writer
commit what waits as one transaction, unless a caller committed since its
last tick: an event waits two ticks at most. Under load the callers commit
and the flusher stays out of their way: two threads committing in turn
contend for the interpreter lock at every SQLite call. The writer's
other uses commit what waits first (a budget check or reservation reads the
journal only after it, an ingest appends after it: one order). The events
reach the process's own ``/metrics`` as their commit is announced to the
tailer (``JournalTailer.expect``): folded there and then by the committing
thread, unless the tailer's own thread is folding.

A record of the hot path (a token record, plain or with usage options, a
tool call, a stage or a switch; label values seen before, no trace id,
reservation or workflow stage) waits as its values in its label set's run
(``add_record``, ``model.runs``), not as an event: the commit writes each
run's rows after the events (``Journal.append``'s ``runs``), and the fold
adds a run up a label set at a time. Such records only add to sums and
counts their label set's first record set up, so writing them after the
events of their commit changes no total.

What an event survives once recorded: a clean exit, ``flush()``, ``close()``
and interpreter shutdown (an ``atexit`` hook) commit it. A crash of the
process loses what waited: the events of about the last two ticks, never
more than two batches. docs/reliability.md states every level.

A commit that fails leaves its events waiting, first in line, for the next
try; past ``limit`` waiting events, ``add`` raises ``JournalError`` rather
than grow without bound or drop what it was given.
"""

from __future__ import annotations

import atexit
import logging
import threading
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

from ..model.events import Event
from ..model.runs import Run, width_of
from .errors import JournalError

log = logging.getLogger(__name__)

#: Seconds between the flusher's ticks (an event waits two at most).
DEFAULT_INTERVAL = 0.01
#: Events that make a commit start at once.
DEFAULT_BATCH = 2_000
#: Events waiting at most (a journal that cannot be written for a while).
DEFAULT_LIMIT = 1_000_000


class PendingEvents:
    """Events waiting for their commit, and the thread that has them committed.

    ``commit()`` commits whatever waits (``JournalWriter.flush``: it ``take``s
    them, and ``give_back``s them when the journal says no).
    """

    def __init__(
        self,
        commit: Callable[[], object],
        *,
        interval: float = DEFAULT_INTERVAL,
        batch: int = DEFAULT_BATCH,
        limit: int = DEFAULT_LIMIT,
    ):
        self._commit = commit
        self.interval = interval
        self.batch = batch
        self.limit = limit
        self._events: deque[Event] = deque()
        self._releases: list[str] = []
        #: Records of runs, per label set (``add_record``), and how many.
        self._runs: dict[tuple[Any, ...], list[Any]] = {}
        self._records = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._taken = 0  # commits so far (``take``s), for the flusher to tell
        self._thread = threading.Thread(target=self._run, name="journal-flusher", daemon=True)
        self._thread.start()
        ref = weakref.ref(self)

        def at_exit() -> None:
            pending = ref()
            if pending is not None:
                pending.stop()

        self._at_exit = at_exit
        atexit.register(at_exit)

    def add(self, event: Event, release: str | None = None) -> None:
        """Keep ``event`` (and the budget reservation its usage releases).

        An event alone is appended without the lock: a deque's ``append`` and
        ``popleft`` are atomic, and ``take`` pops only the events it counted,
        so one appended meanwhile waits for the next commit. An event with a
        release takes the lock, so the two are taken together."""
        events = self._events
        waiting = len(events)
        if waiting + self._records >= self.limit:
            raise self._full()
        if release is None:
            events.append(event)
        else:
            with self._lock:
                events.append(event)
                self._releases.append(release)
        if (waiting + 1) % self.batch == 0:  # faster than the flusher: commit here
            self._commit_or_keep()

    def add_record(self, labels: tuple[Any, ...], record: tuple[Any, ...]) -> None:
        """Keep a record (validated ``labels``, numbers checked) in its
        label set's run (``model.runs``): its values, not an event."""
        with self._lock:
            if self._records + len(self._events) >= self.limit:
                raise self._full()
            run = self._runs.get(labels)
            if run is None:
                run = self._runs[labels] = []
            run += record
            self._records += 1
            full = self._records % self.batch == 0
        if full:  # faster than the flusher: commit here
            self._commit_or_keep()

    def _commit_or_keep(self) -> None:
        """Commit what waits; when the journal says no, it waits on (``give_back``)
        for a later commit, and the failure is logged."""
        try:
            self._commit()
        except JournalError as exc:
            log.error("journal commit failed, %d events wait: %s", len(self), exc)

    def _full(self) -> JournalError:
        """The refusal past ``limit``: saying that nothing waiting is lost."""
        return JournalError(
            f"{len(self)} events wait for a journal that cannot be written; "
            "this one is refused (none of those waiting is lost)"
        )

    def __len__(self) -> int:
        """Events (and records of runs) waiting for their commit."""
        return len(self._events) + self._records

    def __bool__(self) -> bool:
        return bool(self._events or self._releases or self._records)

    def take(self) -> tuple[list[Event], list[str], list[Run]]:
        """Everything waiting, in order, and the runs of records;
        it no longer waits."""
        with self._lock:
            self._taken += 1
            pop = self._events.popleft
            events = [pop() for _ in range(len(self._events))]
            releases, self._releases = self._releases, []
            runs, self._runs, self._records = list(self._runs.items()), {}, 0
        return events, releases, runs

    def give_back(self, events: list[Event], releases: list[str], runs: list[Run]) -> None:
        """What a commit that failed took: first in line again, in its order."""
        with self._lock:
            self._events.extendleft(reversed(events))
            self._releases[:0] = releases
            for labels, run in runs:
                self._runs[labels] = run + self._runs.get(labels, [])
                self._records += len(run) // width_of(labels)

    def _run(self) -> None:
        taken = self._taken
        while not self._stopped:
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._taken != taken:  # a caller committed since the last tick
                taken = self._taken
                continue
            if self:
                self._commit_or_keep()  # on failure, the next tick tries again
            taken = self._taken

    def stop(self) -> None:
        """Stop the flusher and commit what waits (also at interpreter exit)."""
        if self._stopped:
            return
        self._stopped = True
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        atexit.unregister(self._at_exit)
        if self:
            try:
                self._commit()
            except JournalError as exc:
                log.error("journal commit at exit failed, %d events lost: %s", len(self), exc)


__all__ = ["DEFAULT_BATCH", "DEFAULT_INTERVAL", "DEFAULT_LIMIT", "PendingEvents"]
