"""Schema 3 -> 4: the events of an older journal rewritten as compact rows.

Run once, by the first process that opens the journal with this version,
inside the transaction that moves its version (``schema.upgrade``):
other processes wait for it, then find schema 4. Every row keeps its id, so a
snapshot's last event id still means the same event. A row that is not an
event (damaged by hand) is left out and counted in the log, as a replay
would have refused it.
"""

from __future__ import annotations

import logging

from ..model.fields import EventError
from . import driver
from .inserts import insert_rows
from .rows import EVENTS_TABLE, NAMES_TABLE, decode_v3, encode, names_of

log = logging.getLogger(__name__)

#: Rows read and rewritten at a time.
BATCH = 10_000


def rows_to_v4(db: driver.Connection) -> int:
    """Rewrite schema 3's ``events`` table (type text, persona, full JSON body)
    in schema 4's form; returns how many rows were left out."""
    db.execute("ALTER TABLE events RENAME TO events_v3")
    db.execute(EVENTS_TABLE)
    db.execute(NAMES_TABLE)
    ids: dict[str, int] = {}
    last, dropped = 0, 0
    while True:
        rows = db.execute(
            "SELECT id, type, body FROM events_v3 WHERE id > ? ORDER BY id LIMIT ?", (last, BATCH)
        ).fetchall()
        if not rows:
            break
        out = []
        for row_id, kind, body in rows:
            try:
                event = decode_v3(kind, body)
            except (EventError, ValueError) as exc:
                log.warning("journal event %d left out of the migration: %s", row_id, exc)
                dropped += 1
                continue
            for name in names_of(event):
                if name not in ids:
                    ids[name] = len(ids) + 1
                    db.execute("INSERT INTO names (id, name) VALUES (?, ?)", (ids[name], name))
            out.append((row_id, *encode(event, ids.__getitem__)))
        insert_rows(db.cursor(), "INSERT INTO events (id, ts, kind, body) VALUES ", out)
        last = rows[-1][0]
    sequence = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events_v3'").fetchone()
    db.execute("DROP TABLE events_v3")
    db.execute("DELETE FROM sqlite_sequence WHERE name IN ('events', 'events_v3')")
    db.execute(  # ids deleted by compaction are never given out again
        "INSERT INTO sqlite_sequence (name, seq) VALUES ('events', max(?, ?))",
        (sequence[0] if sequence else 0, last),
    )
    return dropped


__all__ = ["BATCH", "rows_to_v4"]
