"""The local journal: an append-only SQLite file (WAL mode) of validated events.

Short-lived producers (the CLI, workers) append and exit; the exporter tails
the file and folds what it finds. SQLite gives atomic multi-process appends,
crash safety and a file users can inspect, with nothing to install. Snapshots
of the folded state live in the same file, written in one transaction with
the id of the last event they include, which makes a replay exactly-once.
"""

from __future__ import annotations

import os
import time

from ..model.events import from_validated
from ..model.fields import EventError
from ..model.runs import names_in, records_in
from . import driver, reservations
from .errors import JournalError, cause_of
from .inserts import insert_rows
from .rollup import ON_CONFLICT_ADD, UPSERT, daily_rows
from .rows import decode, decode_rows, encode, encode_all, names_of
from .run_rows import encode_runs
from .schema import SCHEMA_VERSION, upgrade

TYPE_CHECKING = False
if TYPE_CHECKING:  # stdlib only at run time: the CLI imports this on its fast path
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path
    from typing import Any

    from ..model.budget_check import Held, Reservation
    from ..model.events import Event
    from ..model.runs import Run
    from .rows import Columns, Decoded, Runs


def default_journal_path() -> str:
    """``$HYPERTOOL_JOURNAL``, else ``journal.sqlite`` in the user's data directory."""
    env = os.environ.get("HYPERTOOL_JOURNAL")
    if env:
        return env
    from platformdirs import user_data_dir

    return os.path.join(user_data_dir("hypertool-exporter"), "journal.sqlite")


class Journal:
    """One connection to a journal file; use it from one thread at a time."""

    def __init__(self, path: str | Path, *, create: bool = True, fsync: bool = True):
        self.path = os.fspath(path)  # a plain string: pathlib would slow CLI start-up
        try:
            if create:
                os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            elif not os.path.exists(self.path):
                raise JournalError(f"journal {self.path} does not exist")
            self._db = driver.connect(  # timeout: wait up to 30 s for another writer
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            if create:  # takes effect in a new file only, before WAL mode writes its first page
                self._db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            if self._db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                self._db.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is on disk when it returns; NORMAL: in the OS's
            # hands (power loss loses the last commits), many times faster.
            self._db.execute(f"PRAGMA synchronous = {'FULL' if fsync else 'NORMAL'}")
            #: name -> id, of committed names (``_name_ids``); id -> name (``name_of``).
            self._ids: dict[str, int] = {}
            self._names: dict[int, str] = {}
            self._templates: dict[type, Any] = {}  # ``templates.row``'s writers
            if self._db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                upgrade(self._db, self.path, create)
        except (driver.Error, OSError) as exc:
            cause = cause_of(self.path)
            said = f"{cause} ({exc})" if cause else str(exc)
            raise JournalError(f"cannot open journal {self.path}: {said}") from exc

    def close(self) -> None:
        """Close the connection (also on leaving a ``with`` block)."""
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ------------------------------------------------------------

    def append(
        self,
        events: Sequence[Event],
        keys: Sequence[str | None] | None = None,
        *,
        batch_key: str | None = None,
        appended: Callable[..., None] | None = None,
        releases: Sequence[str] = (),
        runs: Sequence[Run] = (),
    ) -> int:
        """Append events atomically (all or none); returns how many were new.

        ``releases``: ids of budget reservations whose usage these events
        are, deleted in the same transaction (``journal.reservations``).
        ``runs``: records in runs (``model.runs``), a row
        each after the events' rows, never duplicates; ``appended`` then
        hears ``(first_id, events, runs)``.

        ``appended(first_id, events)``, called after the commit, is told the
        id of the first new row and the new events in row order (a
        transaction's rows have consecutive ids): a tailer in this process
        folds them without reading their JSON back.

        ``keys`` (one per event, or ``None``) and ``batch_key`` make retries
        safe: an event whose key, or a batch whose key, the journal has seen
        within its retention (or earlier in the batch) is acknowledged again
        and not appended twice. ``model.wire.WITH_PREVIOUS`` joins an event to
        the delivery before it, kept or dropped with it (a span's events: one
        key to look up and store). The keys are checked and stored in the
        append's own transaction: a producer killed after the commit but
        before it heard back can retry.
        """
        keys = keys or [None] * len(events)
        try:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                kept, last_id, ids = self._append_new(cur, events, keys, batch_key, runs)
                if releases:
                    reservations.release(cur, list(releases))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._ids.update(ids)  # known from now on: the names are committed
        except driver.Error as exc:
            raise JournalError(f"cannot write to journal {self.path}: {exc}") from exc
        new = len(kept) + records_in(runs)
        if appended is not None and new:
            appended(last_id - new + 1, kept, runs) if runs else appended(last_id - new + 1, kept)
        return new

    def reserve(self, wanted: Reservation, now: float, decide: Callable[[Held], bool]) -> bool:
        """Store ``wanted`` if ``decide(held)`` says it fits beside what the
        persona's other live reservations hold; whether it was stored. The
        decision and the insert are one write transaction: one process at a
        time, so two asking at once cannot both take the last of a budget.
        ``decide`` may read the journal through ``query`` (it sees every
        commit before this transaction)."""
        try:
            cur = self._db.cursor()
            cur.execute("BEGIN IMMEDIATE")
            try:
                fits = decide(reservations.held(cur, wanted.persona, now))
                if fits:
                    reservations.insert(cur, wanted, now)
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        except driver.Error as exc:
            raise JournalError(f"cannot write to journal {self.path}: {exc}") from exc
        return fits

    def held(self, persona: str, now: float) -> Held:
        """What ``persona``'s live reservations hold at ``now``."""
        try:
            return reservations.held(self._db.cursor(), persona, now)
        except driver.Error as exc:
            raise JournalError(f"cannot read journal {self.path}: {exc}") from exc

    def cancel(self, persona: str, reservation_id: str, now: float) -> bool:
        """Release a live reservation of ``persona``; whether there was one."""
        try:
            return reservations.cancel(self._db.cursor(), persona, reservation_id, now)
        except driver.Error as exc:
            raise JournalError(f"cannot write to journal {self.path}: {exc}") from exc

    @staticmethod
    def _seen_of(cur: driver.Cursor, keys: list[str]) -> set[str]:
        """Which of ``keys`` the journal has seen: one query per 500, not one each."""
        seen: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key FROM seen_keys WHERE key IN ({marks})"
            seen.update(row[0] for row in cur.execute(query, chunk))
        return seen

    def _name_ids(self, cur: driver.Cursor, names: Iterable[str]) -> dict[str, int]:
        """The ids of ``names`` that this connection has not committed
        before, added to ``names`` where they are new."""
        known = self._ids
        new = list(dict.fromkeys(n for n in names if n not in known))
        found: dict[str, int] = {}
        if new:
            insert_rows(cur, "INSERT OR IGNORE INTO names (name) VALUES ", [(n,) for n in new])
            for start in range(0, len(new), 500):
                chunk = new[start : start + 500]
                query = f"SELECT name, id FROM names WHERE name IN ({','.join('?' * len(chunk))})"
                found.update(cur.execute(query, chunk))
        return found

    def _rows(
        self, cur: driver.Cursor, events: list[Event], runs: Sequence[Run]
    ) -> tuple[list[tuple[Any, ...]], dict[Any, Any]]:
        """The rows of ``events``, then of ``runs``, and the ids of names new
        to this connection (most events' names have ids: only the others wait)."""
        known = self._ids
        rows, later = encode_all(events, known, self._templates)
        names = [n for i in later for n in names_of(events[i])]
        ids = self._name_ids(cur, names + names_in(runs))
        name_id: Callable[[str], int] = lambda name: ids.get(name) or known[name]  # noqa: E731
        for index in later:
            rows[index] = encode(events[index], name_id)
        return rows + encode_runs(runs, name_id), ids

    def _append_new(
        self,
        cur: driver.Cursor,
        events: Sequence[Event],
        keys: Sequence[str | None],
        batch_key: str | None,
        runs: Sequence[Run],
    ) -> tuple[list[Event], int, dict[Any, Any]]:
        """Insert the events not delivered before; returns them, in row order,
        the id of the last row inserted, and the ids of names new to this
        connection."""
        if batch_key is not None and self._seen_of(cur, ["batch:" + batch_key]):
            return [], 0, {}
        fresh: dict[str, None] = {}  # keys first seen in this batch, in order; O(1) lookups
        kept = list(events)
        if any(key is not None for key in keys):
            named = [key and "event:" + key for key in keys]  # None and WITH_PREVIOUS stay
            seen = self._seen_of(cur, list(dict.fromkeys(key for key in named if key)))
            kept, keep = [], True
            for event, key in zip(events, named, strict=True):
                if key:  # delivered before, in the journal or in this batch: dropped
                    keep = key not in seen and key not in fresh
                    if keep:
                        fresh[key] = None
                elif key is None:
                    keep = True
                if keep:
                    kept.append(event)
        rows, ids = self._rows(cur, kept, runs)
        rollups = daily_rows(kept, runs)
        if batch_key is not None:
            fresh["batch:" + batch_key] = None
        insert_rows(cur, "INSERT INTO events (ts, kind, body) VALUES ", rows)
        last_id = cur.execute("SELECT last_insert_rowid()").fetchone()[0]
        if rollups:
            insert_rows(cur, UPSERT, rollups, ON_CONFLICT_ADD)
        if fresh:
            now = time.time()
            insert_rows(cur, "INSERT INTO seen_keys (key, ts) VALUES ", [(k, now) for k in fresh])
        return kept, last_id, ids

    # -- reading ------------------------------------------------------------

    def read_after(self, last_id: int, limit: int = 10_000) -> list[tuple[int, int, float, str]]:
        """Rows with id greater than ``last_id``, oldest first, as (id, kind,
        ts, body); ``event_of`` makes an event of the last three."""
        try:
            return self._db.execute(
                "SELECT id, kind, ts, body FROM events WHERE id > ? ORDER BY id LIMIT ?",
                (last_id, limit),
            ).fetchall()
        except driver.Error as exc:
            raise JournalError(f"cannot read journal {self.path}: {exc}") from exc

    def event_of(self, kind: int, ts: float, body: str) -> Event:
        """The event of a row ``read_after`` gave; ``EventError`` or
        ``ValueError`` for one that is not an event."""
        return decode(kind, ts, body, self._names, self.name_of)

    def events_of(self, rows: list[tuple[Any, ...]], runs: Runs | None = None) -> Decoded:
        """The events of rows ``read_after`` gave, in order, and the rows that
        are not events (with ``runs``, see ``rows.decode_rows``)."""
        classes, values, rejected = self.columns_of(rows, runs)
        return list(map(from_validated, classes, values)), rejected

    def columns_of(self, rows: list[tuple[Any, ...]], runs: Runs | None = None) -> Columns:
        """The same as columns (classes, field values) and rows not events."""
        return decode_rows(rows, self._names, self.name_of, runs)

    def name_of(self, name_id: int) -> str:
        """The name with id ``name_id``, read from the journal the first time."""
        name = self._names.get(name_id)
        if name is None:
            query = "SELECT id, name FROM names WHERE id >= ?"
            self._names.update(self._db.execute(query, (name_id,)).fetchall())
            name = self._names.get(name_id)
            if name is None:
                raise EventError("body", name_id, "refers to a name the journal does not hold")
        return name

    def last_id(self) -> int:
        """Id of the newest event (0 for an empty journal)."""
        row = self._db.execute("SELECT max(id) FROM events").fetchone()
        return int(row[0] or 0)

    def lag(self, applied_id: int, now: float) -> tuple[int, float]:
        """(events after ``applied_id``, age in seconds of the oldest of them)."""
        try:
            head = self.last_id()
            if head <= applied_id:
                return 0, 0.0
            row = self._db.execute(
                "SELECT ts FROM events WHERE id > ? ORDER BY id LIMIT 1", (applied_id,)
            ).fetchone()
        except driver.Error as exc:
            raise JournalError(f"cannot read journal {self.path}: {exc}") from exc
        # AUTOINCREMENT ids are dense except where compaction deleted rows, and
        # compaction only deletes applied ones: head - applied_id is exact.
        age = max(0.0, now - float(row[0])) if row is not None else 0.0
        return head - applied_id, age

    def compact(self, applied_id: int, older_than: float) -> int:
        """Delete events already in the snapshot (id <= ``applied_id``) and older
        than ``older_than``; returns how many. Keeps the file from growing
        without end while ``stats`` still sees the retention window."""
        try:
            cur = self._db.execute(
                "DELETE FROM events WHERE id <= ? AND ts < ?", (applied_id, older_than)
            )
            deleted = cur.rowcount
            self._db.execute("DELETE FROM seen_keys WHERE ts < ?", (older_than,))
            # Through executescript: run by ``execute``, it frees one page only.
            self._db.executescript("PRAGMA incremental_vacuum;")
        except driver.Error as exc:
            raise JournalError(f"cannot compact journal {self.path}: {exc}") from exc
        return deleted

    def query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Read-only SQL over the journal, for ``stats`` and a split replay's reads by kind."""
        try:
            return self._db.execute(sql, tuple(params)).fetchall()
        except driver.Error as exc:
            raise JournalError(f"cannot read journal {self.path}: {exc}") from exc

    # -- snapshots ----------------------------------------------------------

    def save_snapshot(self, last_id: int, state: dict[str, Any]) -> None:
        """Store the folded state that includes every event up to ``last_id``."""
        import orjson  # here, not at the top: the recording CLI never snapshots

        text = orjson.dumps(state).decode()
        try:
            self._db.execute(
                "INSERT INTO snapshot (k, last_id, taken_at, state) VALUES (1, ?, ?, ?) "
                "ON CONFLICT (k) DO UPDATE SET last_id = excluded.last_id, "
                "taken_at = excluded.taken_at, state = excluded.state",
                (last_id, time.time(), text),
            )
        except driver.Error as exc:
            raise JournalError(f"cannot write snapshot to {self.path}: {exc}") from exc

    def set_aside_snapshot(self) -> None:
        """Move the saved snapshot to ``snapshot_set_aside`` (the newest one
        there replaced), for a person to look at: it could not be restored."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS snapshot_set_aside (k INTEGER PRIMARY KEY, "
                "last_id INTEGER, taken_at REAL, state TEXT, set_aside REAL)"
            )
            self._db.execute(
                "INSERT OR REPLACE INTO snapshot_set_aside "
                "SELECT k, last_id, taken_at, state, ? FROM snapshot",
                (time.time(),),
            )
            self._db.execute("DELETE FROM snapshot")
            self._db.execute("COMMIT")
        except driver.Error as exc:
            try:  # noqa: SIM105  (contextlib: not on the recording CLI's imports)
                self._db.execute("ROLLBACK")
            except driver.Error:
                pass
            raise JournalError(f"cannot set the snapshot in {self.path} aside: {exc}") from exc

    def load_snapshot(self) -> tuple[int, float, dict[str, Any]] | None:
        """(last event id included, time taken, state) of the saved snapshot, if any."""
        try:
            row = self._db.execute(
                "SELECT last_id, taken_at, state FROM snapshot WHERE k = 1"
            ).fetchone()
        except driver.Error as exc:
            raise JournalError(f"cannot read snapshot from {self.path}: {exc}") from exc
        if row is None:
            return None
        import orjson

        try:
            return int(row[0]), float(row[1]), orjson.loads(row[2])
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"snapshot is not JSON: {exc}") from None


__all__ = ["SCHEMA_VERSION", "Journal", "JournalError", "default_journal_path"]
