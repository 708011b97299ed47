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
from hypertool_exporter.model.runs import records_in, records_of
from hypertool_exporter.sync import replayer


def _journal(path, count: int) -> None:
    with Journal(path) as journal:
        journal.append(
            [TokensUsed(f"p{n % 3}", "gpt-4", n, 1, "default", 1000.0 + n) for n in range(count)]
        )


def _chunks_written(data: bytes) -> list[tuple[int, int, int]]:
    """(index, last id, events and run records) of each chunk in a helper's output."""
    import pickle

    out, view = [], io.BytesIO(data)
    while header := view.read(8):
        index, last_id, classes, _values, _rejected, runs = pickle.loads(
            view.read(int.from_bytes(header, "big"))
        )
        out.append((index, last_id, len(classes) + records_in(runs)))
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
    assert [chunk[0] for chunk in given] == [
        step,
        2 * step,
        3 * step,
        4 * step,
        5 * step,
        count,
    ]
    # Each event once: most as run records, each label set's first as an event.
    events = [event for _, chunk, _, _ in given for event in chunk]
    records = [record for *_, runs in given for _, run in runs for record in records_of(run)]
    assert sorted([e.input_tokens for e in events] + [r[0] for r in records]) == list(range(count))
    assert 3 <= len(events) < count // 10
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
    assert [(last_id, len(chunk) + records_in(runs)) for last_id, chunk, _, runs in given] == [
        (3 * replayer.CHUNK_ROWS, replayer.CHUNK_ROWS - 100)
    ]
    assert list(replayer.chunks(path, 3 * replayer.CHUNK_ROWS)) == []


def test_a_replay_in_runs_admits_label_values_in_the_journals_order(tmp_path, monkeypatch):
    """Past a label cap the order of admissions decides which values are
    kept: a replay that folds token records as runs, on two processes,
    reaches the state a replay of every event in this process does. Each
    label set's first record is folded in its place; the rest commute."""
    from harness.snapshots import snapshot_of

    from hypertool_exporter.fold.state import MetricState
    from hypertool_exporter.model.config import Config
    from hypertool_exporter.model.events import PersonaSwitched
    from hypertool_exporter.sync.tailer import JournalTailer

    monkeypatch.setattr(replayer, "cores", lambda: 2)  # the helper's way, on any machine
    path = tmp_path / "j.sqlite"
    events = []
    for n in range(3 * replayer.CHUNK_ROWS):
        persona = f"p{(n * 7) % 23}"
        if n % 50 == 0:  # new personas arrive by switches too, some past the cap
            events.append(PersonaSwitched(f"q{n % 31}", "chat", persona, f"s{n % 5}", 1e6 + n))
        else:
            events.append(TokensUsed(persona, f"m{n % 3}", n, 1, "default", 1e6 + n))
    with Journal(path) as journal:
        journal.append(events)
    config = Config(max_label_values=12)

    def replayed(helper_from):
        state = MetricState(config)
        tailer = JournalTailer(state, path, helper_from=helper_from)
        tailer.open()
        tailer.catch_up()
        tailer.stop()
        return snapshot_of(state)

    alone = replayed(None)
    assert "__other__" in str(alone)  # the cap was reached, part way
    assert replayed(0) == alone
