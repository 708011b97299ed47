"""Rows inserted many at a time, in statements SQLite compiles once.

A multi-row ``INSERT ... VALUES (?,?,?),(?,?,?),...`` is the cheapest way
to put a batch of rows into SQLite from Python, but only when its statement
is reused: compiling a thousand-row statement costs as much as running it.
A batch's size is whatever arrived in its window, so a statement written
for each size would almost never be reused. A batch is therefore cut into
chunks whose sizes are powers of two (a batch of 600 rows is 512, 64 and
16 and 8), and each chunk's statement is one of a few texts per table,
which the driver's statement cache keeps compiled.

Stdlib only: the recording CLI imports this.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import chain

from . import driver

TYPE_CHECKING = False
if TYPE_CHECKING:  # not imported at run time: it slows CLI start-up
    from typing import Any

#: Most rows per statement (fewer when SQLite allows fewer variables); a
#: power of two, like every chunk.
ROWS_PER_INSERT = 512


@lru_cache(maxsize=256)
def statement(insert: str, then: str, width: int, rows: int) -> str:
    """The text of ``insert`` with ``rows`` groups of ``width`` parameters,
    then ``then``: built once, so the driver finds it in its cache by a
    string whose hash is already known."""
    group = "(" + ",".join("?" * width) + ")"
    return insert + ",".join([group] * rows) + then


def insert_rows(
    cur: driver.Cursor, insert: str, rows: list[tuple[Any, ...]], then: str = ""
) -> None:
    """``insert`` (an ``INSERT ... VALUES`` without its values, ``then`` what
    follows them) of all ``rows``, in chunks of powers of two up to
    ``ROWS_PER_INSERT`` rows.

    Not ``executemany``: it steps SQLite once per row, and each step lets go
    of the GIL and takes it back, which with ingest threads waiting for it is
    a thread switch per row inside the journal's write lock (a third of OTLP
    ingest's throughput).
    """
    if not rows:
        return
    width = len(rows[0])
    variables = cur.connection.getlimit(driver.SQLITE_LIMIT_VARIABLE_NUMBER)
    most = max(1, min(ROWS_PER_INSERT, variables // width)).bit_length() - 1
    start, count = 0, len(rows)
    while start < count:
        size = 1 << min((count - start).bit_length() - 1, most)
        chunk = rows[start : start + size]
        cur.execute(statement(insert, then, width, size), list(chain.from_iterable(chunk)))
        start += size


__all__ = ["ROWS_PER_INSERT", "insert_rows", "statement"]
