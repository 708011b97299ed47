"""Follows the journal and folds new events into the state, with snapshots.

On start it restores the last snapshot and replays only the events after
it. It snapshots periodically; because a snapshot records the id of the last
event it includes, an exporter killed at any point replays exactly the
events it had not yet saved: nothing is lost and nothing is counted twice.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from pathlib import Path

from .events import EventError, parse_event
from .journal import Journal, JournalError
from .state import MetricState

log = logging.getLogger(__name__)


class JournalTailer:
    """Applies journal events to a ``MetricState``, in a thread or step by step."""

    def __init__(
        self,
        state: MetricState,
        path: str | Path,
        *,
        poll_interval: float = 0.2,
        snapshot_interval: float = 10.0,
        batch: int = 5000,
    ):
        self.state = state
        self.path = Path(path)
        self.poll_interval = poll_interval
        self.snapshot_interval = snapshot_interval
        self.batch = batch
        self.last_id = 0
        self._saved_id = 0
        self._last_snapshot = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._journal: Journal | None = None

    def open(self) -> None:
        """Open the journal and restore the last snapshot into the state."""
        self._journal = Journal(self.path)
        snapshot = self._journal.load_snapshot()
        if snapshot is not None:
            self.last_id, data = snapshot
            self.state.load_json(data)
            self._saved_id = self.last_id
            log.info("restored snapshot at event %d from %s", self.last_id, self.path)

    def step(self) -> int:
        """Apply one batch of new events; returns how many rows were read."""
        assert self._journal is not None, "open() first"
        rows = self._journal.read_after(self.last_id, self.batch)
        for row_id, body in rows:
            try:
                event = parse_event(json.loads(body))
            except (EventError, ValueError) as exc:
                code = exc.code if isinstance(exc, EventError) else "malformed"
                log.warning("journal event %d rejected: %s", row_id, exc)
                self.state.reject(code)
            else:
                self.state.apply(event)
            self.last_id = row_id
        return len(rows)

    def catch_up(self) -> None:
        """Apply everything in the journal now (start-up, tests)."""
        while self.step() >= self.batch:
            pass

    def snapshot(self) -> None:
        """Save state with the id of the last applied event, if anything changed."""
        assert self._journal is not None
        if self.last_id == self._saved_id:
            return
        last_id = self.last_id
        self._journal.save_snapshot(last_id, self.state.to_json())
        self._saved_id = last_id
        self._last_snapshot = time.monotonic()

    def run(self) -> None:
        """Poll until stopped; takes snapshots on the way and once at the end."""
        while not self._stop.is_set():
            try:
                read = self.step()
                if time.monotonic() - self._last_snapshot >= self.snapshot_interval:
                    self.snapshot()
            except JournalError as exc:
                log.error("%s", exc)
                read = 0
            if read < self.batch:
                self._stop.wait(self.poll_interval)
        try:
            self.snapshot()
        except JournalError as exc:
            log.error("final snapshot failed: %s", exc)

    def start(self) -> None:
        if self._journal is None:
            self.open()
            self.catch_up()
        self._thread = threading.Thread(target=self.run, name="journal-tailer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._journal is not None:
            self._journal.close()
