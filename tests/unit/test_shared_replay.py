"""A long replay's reading shared between the helper process and the
replaying one (``sync.replayer``): the replaying process claims a chunk
when the helper's next is not ready, the helper skips the chunks claimed
before it got to them, and a copy of one it had begun is dropped."""

import contextlib
import io
import os
import sqlite3
import stat
import sys
import time

from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model.events import TokensUsed
from hypertool_exporter.sync import replayer


def _journal(path, count: int) -> None:
    with Journal(path) as journal:
        journal.append(
            [TokensUsed(f"p{n % 3}", "gpt-4", n, 1, "default", 1000.0 + n) for n in range(count)]
        )


def _chunks_written(data: bytes) -> list[tuple[int, int, int]]:
    """(index, last id, events) of each chunk in a helper's output."""
    import pickle

    out, view = [], io.BytesIO(data)
    while header := view.read(8):
        index, last_id, classes, _values, _rejected = pickle.loads(
            view.read(int.from_bytes(header, "big"))
        )
        out.append((index, last_id, len(classes)))
    return out


def test_the_helper_skips_the_chunks_claimed_before_it_gets_to_them(tmp_path):
    path = tmp_path / "j.sqlite"
    _journal(path, 4 * replayer.CHUNK_ROWS + 10)
    read, write = os.pipe()
    os.write(write, (1).to_bytes(8, "big") + (3).to_bytes(8, "big") + b"\0\0")  # and part of one
    out = io.BytesIO()
    with Journal(path, create=False) as journal:
        replayer.write_chunks(journal, 0, journal.last_id(), out, read)
    os.close(read)
    os.close(write)
    step = replayer.CHUNK_ROWS
    assert _chunks_written(out.getvalue()) == [
        (0, step, step),
        (2, 3 * step, step),
        (4, 4 * step + 10, 10),
    ]


def test_chunks_claimed_here_and_begun_by_the_helper_are_given_once(tmp_path, monkeypatch):
    """A helper that never reads its claims (its input kept open, unread)
    decodes every chunk; the replaying process, which claimed some, gives
    each chunk once, in order, and the events are the journal's."""
    path = tmp_path / "j.sqlite"
    count = 5 * replayer.CHUNK_ROWS + 7
    _journal(path, count)
    claims = tmp_path / "claims.bin"
    wrapper = tmp_path / "python"
    wrapper.write_text(  # the claims copied to a file; the helper reads none
        f'#!/bin/sh\nexec 3<&0\ncat <&3 >"{claims}" &\n'
        f'exec "{sys.executable}" "$@" </dev/null 3<&-\n'
    )
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setattr(replayer.sys, "executable", str(wrapper))
    given = list(replayer.chunks(path, 0))
    step = replayer.CHUNK_ROWS
    assert [last_id for last_id, _, _ in given] == [
        step,
        2 * step,
        3 * step,
        4 * step,
        5 * step,
        count,
    ]
    events = [event for _, chunk, _ in given for event in chunk]
    assert [event.input_tokens for event in events] == list(range(count))
    # The helper is slower to start than the first look at its output: the
    # chunk after its first was claimed here, at least.
    deadline = time.monotonic() + 30  # ``cat`` copies them as they come
    while len(claimed := claims.read_bytes()) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert 1 in {int.from_bytes(claimed[i : i + 8], "big") for i in range(0, len(claimed), 8)}


def test_a_replay_after_a_compacted_start_reads_no_empty_chunks(tmp_path):
    """Chunks begin at the first row after the one given, wherever the
    journal's rows begin."""
    path = tmp_path / "j.sqlite"
    _journal(path, 3 * replayer.CHUNK_ROWS)
    with contextlib.closing(sqlite3.connect(path)) as db, db:  # as compaction leaves it
        db.execute("DELETE FROM events WHERE id <= ?", (2 * replayer.CHUNK_ROWS + 100,))
    given = list(replayer.chunks(path, 0))
    assert [(last_id, len(chunk)) for last_id, chunk, _ in given] == [
        (3 * replayer.CHUNK_ROWS, replayer.CHUNK_ROWS - 100)
    ]
    assert list(replayer.chunks(path, 3 * replayer.CHUNK_ROWS)) == []
