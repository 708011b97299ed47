"""Journal faults the self-metrics must show and the state must survive: a
write that fails, a reopen after an error, a snapshot that cannot be
restored, and rows committed but not folded yet."""

import sqlite3

import pytest

from hypertool_exporter.exposition.snapshot import take_snapshot
from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.journal.store import Journal, JournalError
from hypertool_exporter.journal.writer import JournalWriter
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.events import TokensUsed
from hypertool_exporter.sync.tailer import JournalTailer

KEY = ("qa", "default", "m", "input")


def event(n=1):
    return TokensUsed("qa", "m", n, 0, "default", 1_796_000_000.0)


def gauge(state, status, spec):
    [family] = [f for f in take_snapshot(state, status) if f.spec is spec]
    return dict(family.rows)[()]


def input_tokens(state):
    [family] = [f for f in take_snapshot(state) if f.spec is c.PERSONA_TOKENS]
    return dict(family.rows).get(KEY, 0)


def test_a_failed_write_shows_the_journal_down_and_counts_until_one_goes_through(tmp_path):
    state = MetricState()
    tailer = JournalTailer(state, tmp_path / "j.sqlite")
    tailer.open()
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    hooks = {"on_error": tailer.write_failed, "on_success": tailer.write_succeeded}
    broken = JournalWriter(blocked / "j.sqlite", **hooks)
    for _ in range(3):
        with pytest.raises(JournalError):
            broken([event()])
    assert gauge(state, tailer.status, c.JOURNAL_UP) == 0
    assert gauge(state, tailer.status, c.JOURNAL_ERRORS) == 3
    tailer.step()  # reading still works: the journal is still down for writes
    assert gauge(state, tailer.status, c.JOURNAL_UP) == 0
    JournalWriter(tmp_path / "j.sqlite", on_commit=tailer.expect, **hooks)([event()])
    assert gauge(state, tailer.status, c.JOURNAL_UP) == 1
    tailer.stop()


def test_a_reopen_after_an_error_keeps_the_live_counters(tmp_path):
    path = tmp_path / "j.sqlite"
    state = MetricState()
    tailer = JournalTailer(state, path)
    tailer.open()
    tailer.snapshot()  # an empty snapshot, older than what follows
    with Journal(path) as journal:
        journal.append([event()])
    tailer.step()
    assert input_tokens(state) == 1
    tailer.mark_down()
    tailer.open()  # what the tailer's loop does once the journal answers again
    assert input_tokens(state) == 1
    tailer.step()
    assert input_tokens(state) == 1
    tailer.stop()


@pytest.mark.parametrize("damage", ["{not json", '{"counters": 5}', '{"budgets": [1]}'])
def test_a_snapshot_that_cannot_be_restored_is_set_aside_and_the_rows_replayed(tmp_path, damage):
    path = tmp_path / "j.sqlite"
    state = MetricState()
    tailer = JournalTailer(state, path)
    tailer.open()
    with Journal(path) as journal:
        journal.append([event(2)])
    tailer.catch_up()
    tailer.snapshot()
    tailer.stop()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE snapshot SET state = ?", (damage,))
    restarted = MetricState()
    again = JournalTailer(restarted, path)
    again.open()
    again.catch_up()
    assert input_tokens(restarted) == 2
    assert gauge(restarted, again.status, c.JOURNAL_ERRORS) == 1
    again.stop()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT state FROM snapshot_set_aside").fetchall() == [(damage,)]
        assert db.execute("SELECT count(*) FROM snapshot").fetchone() == (0,)


def test_the_lag_counts_rows_committed_and_not_folded_yet(tmp_path):
    path = tmp_path / "j.sqlite"
    state = MetricState()
    tailer = JournalTailer(state, path)
    tailer.open()
    writer = JournalWriter(path, on_commit=tailer.expect)
    writer([event(), event(), event()])
    assert gauge(state, tailer.status, c.JOURNAL_LAG_EVENTS) == 3
    assert gauge(state, tailer.status, c.JOURNAL_LAG_SECONDS) >= 0
    tailer.step()
    assert gauge(state, tailer.status, c.JOURNAL_LAG_EVENTS) == 0
    assert gauge(state, tailer.status, c.JOURNAL_LAG_SECONDS) == 0
    writer.close()
    tailer.stop()
