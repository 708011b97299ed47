"""Follows the journal and folds new events into the state, with snapshots.

On start it restores the last snapshot and replays only the events after
it. It snapshots periodically; because a snapshot records the id of the last
event it includes, an exporter killed at any point replays exactly the
events it had not yet saved: nothing is lost and nothing is counted twice.
After a snapshot it compacts: events already in the snapshot and older than
the retention window are deleted, so the file and start-up stay small.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..fold.merge import MergeConflict
from ..fold.persist import collector_paused
from ..fold.state import MetricState
from ..journal.rows import Rejection
from ..journal.store import Journal, JournalError
from ..model.config import DEFAULT_RETENTION_DAYS, DEFAULT_SNAPSHOT_SECONDS
from ..model.events import Event
from ..model.runs import Run, records_in, run_events
from . import replayer, splitter
from .announced import Announced
from .status import JournalStatus

log = logging.getLogger(__name__)

#: Seconds between compactions.
COMPACTION_INTERVAL = 3600.0
#: Seconds between attempts to reopen a journal that failed.
RETRY_SECONDS = 5.0
#: Seconds the tailer waits, once woken by a commit of this process, for more.
WAKE_DELAY = 0.01
#: Events folded per hold of the state lock: a scrape sees a journal batch of
#: up to this many whole, and waits for at most one chunk (a few milliseconds).
APPLY_CHUNK = 500


class JournalTailer:
    """Applies journal events to a ``MetricState``, in a thread or step by step."""

    def __init__(
        self,
        state: MetricState,
        path: str | Path,
        *,
        poll_interval: float = 0.2,
        snapshot_interval: float = DEFAULT_SNAPSHOT_SECONDS,
        retention_days: float = DEFAULT_RETENTION_DAYS,
        batch: int = 5000,
        helper_from: int | None = replayer.HELPER_FROM,
    ):
        self.state = state
        self.path = Path(path)
        self.poll_interval = poll_interval
        self.snapshot_interval = snapshot_interval
        self.retention_seconds = retention_days * 86400.0
        self.batch = batch
        #: Rows behind from which ``catch_up`` replays with a helper process (None: never).
        self.helper_from = helper_from
        self.last_id = 0
        self.status = JournalStatus(self.path)
        self._saved_id = 0
        self._last_snapshot = time.monotonic()
        self._last_compaction = float("-inf")
        self._stop = threading.Event()
        #: Set when this process commits (``expect``): fold it now, not at the next poll.
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._journal: Journal | None = None
        #: Whether the snapshot was restored (or found missing): done once.
        self._restored = False
        #: The commits of this process not folded yet (``expect``).
        self._announced = Announced()
        #: Held by whoever folds or snapshots: the tailer's steps, a replay,
        #: a snapshot, and a committing thread folding its own commit
        #: (``expect``), so that ``last_id`` and the state move together.
        self._folding = threading.RLock()

    def open(self) -> None:
        """Open the journal and, the first time, restore the last snapshot into
        the state. A reopen after an error connects only: the state is live
        and already holds everything up to ``last_id``."""
        self._journal = Journal(self.path)
        if self._restored:
            return
        try:
            snapshot = self._journal.load_snapshot()
            if snapshot is not None:
                last_id, taken_at, data = snapshot
                self.state.load_json(data)
                self.last_id = self._saved_id = last_id
                self.status.last_snapshot = taken_at
                log.info("restored snapshot at event %d from %s", self.last_id, self.path)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            self._set_aside(exc)
        self._restored = True
        self.status.applied_id = self.last_id

    def _set_aside(self, exc: Exception) -> None:
        """A snapshot that cannot be restored: kept aside in the journal for a
        person to look at, and the state rebuilt from the rows that remain."""
        assert self._journal is not None
        log.error(
            "snapshot in %s cannot be restored (%s: %s); set aside, replaying the journal",
            self.path,
            type(exc).__name__,
            exc,
        )
        self.state.load_json(MetricState(self.state.config, self.state.clock).to_json())
        self.state.count_journal_error()
        self._journal.set_aside_snapshot()
        self.last_id = self._saved_id = 0

    def step(self) -> int:
        """Apply one batch of new events; returns how many were applied."""
        with self._folding:
            return self._step()

    def _step(self) -> int:
        journal = self._journal
        assert journal is not None, "open() first"
        folded = self._fold_announced()
        # Caught up (the common step of a serve whose rows are its own
        # ingest's, folded as announced): one query, the head's id.
        behind, age = journal.lag(self.last_id, time.time())
        rows = journal.read_after(self.last_id, self.batch) if behind else []
        for start in range(0, len(rows), APPLY_CHUNK):
            chunk = rows[start : start + APPLY_CHUNK]
            self.state.apply_all(self._events_of(chunk))
            self.last_id = chunk[-1][0]
        now = time.time()
        if rows:
            behind, age = journal.lag(self.last_id, now)
        self.status.applied_id = self.last_id
        self.status.heard(self.last_id + behind, now - age)
        self.status.measure_size()
        return folded + len(rows)

    def _events_of(self, chunk: list[tuple[Any, ...]]) -> list[Event]:
        """The events of rows read back: this process's announced commits as
        they were, the others decoded (rejected ones counted and logged)."""
        journal = self._journal
        assert journal is not None  # rows were read from it
        events_of = journal.events_of
        if not self._announced:  # a replay, or rows of other processes: all decoded
            events, rejected = events_of(chunk)
            self._reject(rejected)
            return events
        events = []
        index = 0
        while index < len(chunk):
            announced = self._announced.take(chunk[index][0], len(chunk) - index)
            if announced:  # written by this process: validated already
                events.extend(announced)
                index += len(announced)
                continue
            decoded, rejected = events_of(chunk[index : index + 1])
            events.extend(decoded)
            self._reject(rejected)
            index += 1
        return events

    def _reject(self, rejected: list[Rejection]) -> None:
        """Count and log journal rows that are not events."""
        for row_id, code, why in rejected:
            log.warning("journal event %d rejected: %s", row_id, why)
            self.state.reject(code)

    def _fold_announced(self) -> int:
        """Fold this process's announced commits that are next in line (up to
        about a batch; under ``_folding``); how many events."""
        own = self._announced.run_after(self.last_id, self.batch)
        self._apply(own)
        return len(own)

    def _apply(self, events: list[Event]) -> None:
        """Fold the events of the rows after ``last_id``, a chunk per hold of the lock."""
        for start in range(0, len(events), APPLY_CHUNK):
            chunk = events[start : start + APPLY_CHUNK]
            self.state.apply_all(chunk)
            self.last_id += len(chunk)

    def expect(self, first_id: int, events: list[Event], runs: Sequence[Run] = ()) -> None:
        """Rows ``first_id`` on hold ``events``, then ``runs`` (records
        in runs), just committed by this process (``JournalWriter.on_commit``):
        folded as these objects, not decoded again from their rows, here
        (``_fold_own``) or by the tailer's thread (``sync.announced``)."""
        self.status.heard(first_id + len(events) + records_in(runs) - 1, time.time())
        if self._thread is None or not self._thread.is_alive():
            self._announce(first_id, events, runs)
        elif not self._fold_own(first_id, events, runs):
            self._wake.set()

    def _announce(self, first_id: int, events: list[Event], runs: Sequence[Run]) -> None:
        """Announce a commit, runs as the events they stand for."""
        self._announced.add(first_id, events + run_events(runs) if runs else events, self.last_id)

    def _fold_own(self, first_id: int, events: list[Event], runs: Sequence[Run]) -> bool:
        """Fold this process's commits next in line on the thread that made
        them, if no fold is under way (handing them to the tailer's thread
        costs a thread switch: docs/architecture.md); whether none is left.
        A commit's runs fold a label set at a time (``MetricState.apply_runs``);
        one behind other processes' rows, or made mid-fold, waits for the tailer."""
        if not self._folding.acquire(blocking=False):
            self._announce(first_id, events, runs)
            return False
        try:
            if runs and not self._announced and self.last_id == first_id - 1:
                self._apply(events)
                self.state.apply_runs(runs)
                self.last_id += records_in(runs)
            else:
                self._announce(first_id, events, runs)
                self._fold_announced()
            self.status.applied_id = self.last_id
            return not self._announced
        finally:
            self._folding.release()

    @property
    def announced(self) -> int:
        """Events this process announced that the tailer has not folded yet."""
        return len(self._announced)

    def write_failed(self) -> None:
        """This process's ingest could not write (``JournalWriter.on_error``):
        down until a write goes through, and counted, so the alert can fire."""
        self.state.count_journal_error()
        self.status.writable = False

    def write_succeeded(self) -> None:
        """A write of this process's ingest went through (``JournalWriter.on_success``)."""
        self.status.writable = True

    def catch_up(self) -> None:
        """Apply everything in the journal now (start-up, tests); a backlog of
        ``helper_from`` rows or more on a second core (``_replay_long``). The
        cyclic collector is paused meanwhile: a replay makes millions of
        short-lived objects and no cycles, and it took a third of the replay."""
        assert self._journal is not None, "open() first"
        started, first = time.monotonic(), self.last_id
        behind, _ = self._journal.lag(self.last_id, time.time())
        with self._folding, collector_paused():
            long = self.helper_from is not None and behind >= self.helper_from
            if long and not self._announced and replayer.helper_usable():
                self._replay_long()
            while self.step() >= self.batch:
                self._snapshot_when_due()
            self.state.drain()  # the token events waiting in their batches, too
        if behind:  # how long a start took to replay, for whoever waits on it
            seconds = time.monotonic() - started
            log.info("replayed journal rows %d-%d in %.1f s", first + 1, self.last_id, seconds)

    def _replay_long(self) -> None:
        """A long backlog on two cores, a segment at a time (snapshotted when
        due): split by event kind with a helper that folds too
        (``sync.splitter``); else read and decoded by a helper (``sync.replayer``)."""
        assert self._journal is not None
        head = self._journal.last_id()
        while self.last_id < head:
            up_to = min(head, self.last_id + splitter.SEGMENT_ROWS)
            try:
                rejected = splitter.replay_if_worth(self.state, self._journal, self.last_id, up_to)
            except (replayer.ReplayError, MergeConflict) as exc:
                log.warning("%s; replaying with a helper that only decodes", exc)
                rejected = None
            if rejected is None:
                log.info("replaying about %d events with a helper process", head - self.last_id)
                return self._replay_with_helper()
            self._reject(rejected)
            self.last_id = up_to
            self._snapshot_when_due()

    def _replay_with_helper(self) -> None:
        """Fold the helper's chunks; if it fails, ``catch_up`` goes on from the
        last chunk folded."""
        try:
            for last_id, events, rejected, runs in replayer.chunks(self.path, self.last_id):
                for start in range(0, len(events), APPLY_CHUNK):
                    self.state.apply_all(events[start : start + APPLY_CHUNK])
                self.state.apply_runs(runs)
                self._reject(rejected)
                self.last_id = last_id
                self._snapshot_when_due()
        except replayer.ReplayError as exc:
            log.warning("%s; replaying the rest in this process, after event %d", exc, self.last_id)

    def _snapshot_when_due(self) -> bool:
        """Snapshot when the interval has passed (during a long replay too: a
        start stopped part way resumes from there); whether it was due."""
        if time.monotonic() - self._last_snapshot < self.snapshot_interval:
            return False
        self.snapshot()
        return True

    def snapshot(self) -> None:
        """Save state with the id of the last applied event, if anything changed."""
        assert self._journal is not None
        self._last_snapshot = time.monotonic()
        with self._folding:
            if self.last_id == self._saved_id:
                return
            last_id, data = self.last_id, self.state.to_json()
        self._journal.save_snapshot(last_id, data)
        self._saved_id = last_id
        self.status.last_snapshot = time.time()

    def compact(self) -> int:
        """Delete snapshotted events older than the retention window."""
        assert self._journal is not None
        self._last_compaction = time.monotonic()
        deleted = self._journal.compact(self._saved_id, time.time() - self.retention_seconds)
        self.status.last_compaction = time.time()
        if deleted:
            log.info("compacted %d journal events", deleted)
        return deleted

    def _housekeeping(self) -> None:
        due = self._snapshot_when_due()
        if due and time.monotonic() - self._last_compaction >= COMPACTION_INTERVAL:
            self.compact()

    def run(self) -> None:
        """Poll until stopped; snapshots and compacts on the way, snapshots at the end."""
        while not self._stop.is_set():
            read = 0
            if self._journal is None and not self._reopen():
                self._stop.wait(RETRY_SECONDS)
                continue
            self._wake.clear()
            try:
                read = self.step()
                self._housekeeping()
                self.status.readable = True
            except JournalError as exc:
                log.error("%s", exc)
                self.mark_down()
            if read < self.batch and self._wake.wait(self.poll_interval):
                # Woken by a commit here: let more gather (a step per WAKE_DELAY at most).
                self._stop.wait(WAKE_DELAY)
        if self._journal is None:
            return
        try:
            self.snapshot()
        except JournalError as exc:
            log.error("final snapshot failed: %s", exc)
            self.state.count_journal_error()

    def mark_down(self) -> None:
        """The journal could not be used: report it and let ``run`` retry."""
        self.state.count_journal_error()
        self.status.readable = False
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def _reopen(self) -> bool:
        try:
            self.open()
        except JournalError as exc:
            log.error("%s (retrying in %.0f s)", exc, RETRY_SECONDS)
            self.mark_down()
            return False
        self.status.readable = True
        log.info("journal %s is readable again", self.path)
        return True

    def start(self) -> None:
        """Follow the journal in a daemon thread (opening it there if needed);
        idempotent: two threads must never share the tailer's connection."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._thread = threading.Thread(target=self.run, name="journal-tailer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop following (the thread takes a final snapshot) and close the journal."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._journal is not None:
            self._journal.close()
            self._journal = None


__all__ = [
    "APPLY_CHUNK",
    "COMPACTION_INTERVAL",
    "RETRY_SECONDS",
    "JournalTailer",
]
