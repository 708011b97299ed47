"""Rows inserted many at a time: every row once, in order, whatever the
batch's size and SQLite's variable limit, in a few statement texts."""

from __future__ import annotations

import pytest

from hypertool_exporter.journal import driver
from hypertool_exporter.journal.inserts import ROWS_PER_INSERT, insert_rows

#: Sizes around every power of two a chunk can take, and past the largest.
SIZES = sorted(
    {0, 1, 2, 3}
    | {n + d for k in range(2, 11) for n in (1 << k,) for d in (-1, 0, 1)}
    | {ROWS_PER_INSERT * 3 + 7, 2_000}
)


def _table(variables: int | None = None) -> driver.Connection:
    db = driver.connect(":memory:", isolation_level=None)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL)")
    if variables is not None:
        db.setlimit(driver.SQLITE_LIMIT_VARIABLE_NUMBER, variables)
    return db


@pytest.mark.parametrize("variables", [None, 3, 10, 301])
@pytest.mark.parametrize("count", SIZES)
def test_every_row_is_inserted_once_and_in_order(count: int, variables: int | None) -> None:
    db = _table(variables)
    rows = [(i, f"row {i}", i / 7) for i in range(count)]
    insert_rows(db.cursor(), "INSERT INTO t (a, b, c) VALUES ", rows)
    assert db.execute("SELECT a, b, c FROM t ORDER BY id").fetchall() == rows


def test_what_follows_the_values_applies_to_every_chunk() -> None:
    db = _table()
    db.execute("CREATE UNIQUE INDEX t_a ON t (a)")
    rows = [(i % 100, "x", 1.0) for i in range(700)]  # each a seven times
    cur = db.cursor()
    for start in range(0, len(rows), 100):  # one a once per statement
        insert_rows(
            cur,
            "INSERT INTO t (a, b, c) VALUES ",
            rows[start : start + 100],
            " ON CONFLICT (a) DO UPDATE SET c = c + excluded.c",
        )
    assert db.execute("SELECT count(*), min(c), max(c) FROM t").fetchone() == (100, 7.0, 7.0)


def test_batches_of_every_size_share_a_few_statements() -> None:
    """A statement per chunk size, a power of two: ten texts for every batch
    size up to twice ``ROWS_PER_INSERT``, not one a size."""
    db = _table()
    executed: set[str] = set()  # each statement as run
    db.set_trace_callback(executed.add)
    insert = "INSERT INTO t (a, b, c) VALUES "
    for count in range(1, 2 * ROWS_PER_INSERT + 1):
        insert_rows(db.cursor(), insert, [(i, "x", 0.0) for i in range(count)])
    db.set_trace_callback(None)
    # The trace holds each statement with its values written in: a row each "'x'".
    assert {text.count("'x'") for text in executed} == {1 << k for k in range(10)}
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == sum(
        range(1, 2 * ROWS_PER_INSERT + 1)
    )
