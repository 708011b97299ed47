"""The journal's schema and its upgrades: the tables a new file gets, and
the steps that bring an older file to ``SCHEMA_VERSION``.

Stdlib only: the recording CLI creates journals.
"""

from __future__ import annotations

from . import driver
from .errors import JournalError
from .reservations import RESERVATIONS_TABLE
from .rollup import DAILY_TABLE
from .rows import EVENTS_TABLE, NAMES_TABLE

#: 2: per-day rows by cost source, with cache, reasoning and reported-cost columns.
#: 3: delivery keys (idempotency keys, event ids) seen within the retention.
#: 4: compact rows: a kind code, the time, a positional body naming names by id.
#: 5: budget reservations.
SCHEMA_VERSION = 5

#: Keys of batches and events already appended, so retries count once.
#: ``WITHOUT ROWID``: the key is the table's one B-tree, where a rowid table
#: keeps each key twice (its row, and the index of its primary key), so a
#: commit of OTLP spans writes half the pages for their keys. Files made
#: before keep their rowid table: the statements are the same for both.
SEEN_KEYS = (
    "CREATE TABLE IF NOT EXISTS seen_keys (key TEXT PRIMARY KEY, ts REAL NOT NULL) WITHOUT ROWID"
)

_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS snapshot (
    k INTEGER PRIMARY KEY CHECK (k = 1),
    last_id INTEGER NOT NULL,
    taken_at REAL NOT NULL,
    state TEXT NOT NULL
);
"""
    + DAILY_TABLE
    + ";"
    + SEEN_KEYS
    + ";"
    + EVENTS_TABLE
    + ";"
    + NAMES_TABLE
    + ";"
    + RESERVATIONS_TABLE
    + ";"
)

#: Schema 1 -> 2: the per-day table gains a key column and four totals;
#: existing rows keep their totals (their cost is estimated, as before).
_MIGRATE_1_TO_2 = (
    "ALTER TABLE daily RENAME TO daily_v1;"
    + DAILY_TABLE
    + ";INSERT INTO daily (day, persona, model, input_tokens, output_tokens, switches, "
    "failed_gates) SELECT day, persona, model, input_tokens, output_tokens, switches, "
    "failed_gates FROM daily_v1; DROP TABLE daily_v1;"
)
_MIGRATE_2_TO_3 = SEEN_KEYS + ";"
_MIGRATE_4_TO_5 = RESERVATIONS_TABLE + ";"


def upgrade(db: driver.Connection, path: str, create: bool) -> None:
    """Create the schema in a new file, or migrate an older one, in one
    transaction that re-reads the version (another process may be doing the
    same at the same moment)."""
    db.execute("BEGIN IMMEDIATE")
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise JournalError(
                f"journal {path} has schema {version}, newer than this version's "
                f"{SCHEMA_VERSION}: upgrade hypertool-exporter"
            )
        script = {
            0: _SCHEMA if create else "",
            1: _MIGRATE_1_TO_2 + _MIGRATE_2_TO_3 + _MIGRATE_4_TO_5,
            2: _MIGRATE_2_TO_3 + _MIGRATE_4_TO_5,
            3: _MIGRATE_4_TO_5,
            4: _MIGRATE_4_TO_5,
        }.get(version, "")
        for statement in script.split(";"):
            if statement.strip():
                db.execute(statement)
        rewrite = 1 <= version <= 3
        if rewrite:
            from .migrate import rows_to_v4  # once per journal: not on the CLI's path

            rows_to_v4(db)
        if script or rewrite:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    if rewrite:  # give the old rows' pages back, and let compaction do so from now on
        try:
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            db.execute("VACUUM")
        except driver.OperationalError:  # another process is reading: the file stays as is
            pass


__all__ = ["SCHEMA_VERSION", "upgrade"]
