"""Commits of this process, announced to its tailer by the writer that made them.

A journal writer tells the tailer of its process of every commit (the row id
of its first event and the events themselves: ``JournalWriter.on_commit``).
The tailer then folds those objects, validated already, instead of reading
their rows back and decoding them. Ids are given in commit order, so a
commit is next in line once every row before it is folded.

Bounded: past ``MAX_ANNOUNCED`` events waiting, a commit is not kept, and
the tailer simply reads its rows back. The commits wait in row order in an
``OrderedDict``, whose oldest is found in O(1) however many were taken
before it (a plain dict's front fills with the slots of taken commits, which
finding its first entry walks: 30 us an announcement with 100,000 held).
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from ..model.events import Event

#: Announced events kept until the tailer folds them.
MAX_ANNOUNCED = 200_000


class Announced:
    """first row id of a commit -> the events this process wrote there."""

    def __init__(self, limit: int = MAX_ANNOUNCED):
        self.limit = limit
        self._commits: OrderedDict[int, list[Event]] = OrderedDict()
        self._events = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Events announced and not taken yet."""
        return self._events

    def add(self, first_id: int, events: list[Event], applied_id: int) -> None:
        """Rows ``first_id`` on hold ``events``; rows up to ``applied_id`` are
        folded already (read back before the announcement came), so those
        commits and events are dropped."""
        with self._lock:
            commits = self._commits
            while commits:  # commits read back before they were announced
                oldest = next(iter(commits))
                if oldest > applied_id:
                    break
                self._events -= len(commits.pop(oldest))
            skip = max(0, applied_id + 1 - first_id)  # rows read back already
            if skip < len(events) and self._events + len(events) <= self.limit:
                commits[first_id + skip] = events[skip:]
                self._events += len(events) - skip

    def take(self, row_id: int, most: int) -> list[Event] | None:
        """The announced events of rows ``row_id`` on, at most ``most``, if a
        commit of this process starts there; the rest of it stays announced."""
        with self._lock:
            events = self._commits.pop(row_id, None)
            if events is None:
                return None
            if len(events) > most:  # the rest waits, still the oldest
                self._commits[row_id + most] = events[most:]
                self._commits.move_to_end(row_id + most, last=False)
                events = events[:most]
            self._events -= len(events)
            return events

    def run_after(self, applied_id: int, most: int) -> list[Event]:
        """The events committed right after row ``applied_id``: whole commits,
        up to about ``most`` events (the journal's next rows)."""
        run: list[Event] = []
        while self._events and len(run) < most:
            events = self.take(applied_id + 1 + len(run), most)
            if not events:
                break
            run.extend(events)
        return run


__all__ = ["MAX_ANNOUNCED", "Announced"]
