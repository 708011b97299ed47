import contextlib
import itertools
import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from harness.snapshots import snapshot_of
from harness.support import in_threads
from hypothesis import given, settings
from hypothesis import strategies as st

from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.budgets import Budget
from hypertool_exporter.model.config import Config
from hypertool_exporter.model.events import (
    LLMCallFinished,
    PersonaSwitched,
    StageFinished,
    TokensUsed,
    from_validated,
)
from hypertool_exporter.model.wire import WITH_PREVIOUS
from hypertool_exporter.model.work import (
    QualityScored,
    ToolCallFinished,
    WorkflowCharged,
    WorkflowRunFinished,
)
from hypertool_exporter.sync.tailer import JournalTailer


def replayed(
    path, batch: int = 5000, helper_from: int | None = None, config: Config | None = None
) -> MetricState:
    """The state a fresh tailer reaches by replaying the journal at ``path``."""
    state = MetricState(config)
    tailer = JournalTailer(state, path, batch=batch, helper_from=helper_from)
    tailer.open()
    tailer.catch_up()
    tailer.stop()
    return state


def append_many(path: str, worker: int, count: int) -> None:
    with Journal(path) as journal:
        for i in range(count):
            journal.append([TokensUsed(f"p{worker}", "gpt-4", 1, 2, "default", 1000.0 + i)])


def tokens_of(state: MetricState, persona: str) -> float:
    """``persona``'s tokens, read as every reader does: after a drain (token
    events wait in their label set's batch until one)."""
    state.drain()
    series = state.view().counters[c.PERSONA_TOKENS.name]
    return sum(v for k, v in series.items() if k[0] == persona)


def test_concurrent_process_appends_are_all_kept(tmp_path):
    path = str(tmp_path / "j.sqlite")
    Journal(path).close()
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=append_many, args=(path, w, 40)) for w in range(4)]
    for p in workers:
        p.start()
    for p in workers:
        p.join(60)
        assert p.exitcode == 0
    state = MetricState()
    tailer = JournalTailer(state, path)
    tailer.open()
    tailer.catch_up()
    for w in range(4):
        assert tokens_of(state, f"p{w}") == 40 * 3
    assert state.view().counters[c.EVENTS_APPLIED.name][("tokens_used",)] == 160


def test_crash_between_apply_and_snapshot_replays_exactly_once(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        for i in range(30):
            journal.append([TokensUsed("p", "gpt-4", 10, 0, "default", 1000.0 + i)])
    first = MetricState()
    tailer = JournalTailer(first, path, batch=10)
    tailer.open()
    tailer.step()
    tailer.snapshot()  # saved at event 10
    tailer.step()  # applied 11..20 in memory only, then the process "dies"
    assert tokens_of(first, "p") == 200

    with Journal(path) as journal:
        journal.append([TokensUsed("p", "gpt-4", 10, 0, "default", 2000.0)])
    second = MetricState()
    restarted = JournalTailer(second, path, batch=10)
    restarted.open()
    assert tokens_of(second, "p") == 100  # from the snapshot
    restarted.catch_up()
    assert tokens_of(second, "p") == 310  # 31 events, each counted once


def test_events_joined_to_a_delivery_are_kept_or_dropped_with_it(tmp_path):
    def call(persona, n):  # a span's two events: its token usage and its call
        return [
            TokensUsed(persona, "gpt-4", n, 0, "default", 1.0),
            LLMCallFinished(persona, "gpt-4", 0.5, ts=1.0),
        ]

    with Journal(tmp_path / "j.sqlite") as journal:
        first = [*call("a", 1), *call("b", 2), *call("a", 1)]
        keys = ["span-a", WITH_PREVIOUS, "span-b", WITH_PREVIOUS, "span-a", WITH_PREVIOUS]
        assert journal.append(first, keys) == 4  # the copy of span-a in the batch: both dropped
        # Sent again beside a new span and an unkeyed event, one joined to it.
        again = [*call("a", 1), *call("c", 3), *call("d", 4)]
        keys = ["span-a", WITH_PREVIOUS, "span-c", WITH_PREVIOUS, None, WITH_PREVIOUS]
        assert journal.append(again, keys) == 4
        bodies = [row[3] for row in journal.read_after(0)]
        assert len(bodies) == 8
        assert journal.query("SELECT count(*) FROM seen_keys") == [(3,)]  # one key a delivery


@pytest.mark.parametrize("rowid", [False, True])
def test_delivery_keys_count_once_in_either_table_of_them(tmp_path, rowid):
    """New journals keep their keys in a table without rowids; files made
    before, in a rowid table, go on deduplicating the same."""
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    if rowid:  # the table a journal made before had
        with sqlite3.connect(path) as db:
            db.executescript(
                "DROP TABLE seen_keys;"
                "CREATE TABLE seen_keys (key TEXT PRIMARY KEY, ts REAL NOT NULL);"
            )
    with Journal(path) as journal:
        (made,) = journal.query("SELECT sql FROM sqlite_master WHERE name = 'seen_keys'")
        assert ("WITHOUT ROWID" in made[0]) is not rowid
        events = [TokensUsed("p", "gpt-4", n, 0, "default", 1.0) for n in (1, 2)]
        assert journal.append(events, ["k1", "k2"]) == 2
        assert journal.append(events, ["k2", "k3"]) == 1  # k2 seen: only k3's
        assert journal.query("SELECT count(*) FROM seen_keys") == [(3,)]


def test_corrupt_rows_are_rejected_and_counted(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        journal.append([TokensUsed("p", "gpt-4", 1, 0, "default", 1.0)])
        _corrupt(
            path,
            (1, 2, "[not json"),
            (1, 99, "[1, 2]"),
            (1, 2, "[1, 2, -5]"),
            ("soon", 2, "[1, 2, 1]"),
        )
    state = MetricState()
    tailer = JournalTailer(state, path)
    tailer.open()
    tailer.catch_up()
    rejected = state.view().counters[c.EVENTS_REJECTED.name]
    assert rejected == {("malformed",): 2.0, ("unknown_type",): 1.0, ("invalid_field",): 1.0}
    assert tokens_of(state, "p") == 1


def test_a_row_that_leaves_out_a_field_without_a_default_is_refused_naming_it(tmp_path):
    """A row may leave out trailing fields at their defaults, never one that
    has none: a token row with a persona and no model is not an event."""
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.append([TokensUsed("p", "gpt-4", 1, 0, "default", 1.0)])
        _corrupt(tmp_path / "j.sqlite", (2.0, 2, "[1]"))
        classes, values, rejected = journal.columns_of(journal.read_after(0))
    events = list(map(from_validated, classes, values))
    assert events == [TokensUsed("p", "gpt-4", 1, 0, "default", 1.0)]
    assert rejected == [(2, "invalid_field", "model: is missing from the journal row (got None)")]


def test_starting_a_tailer_twice_runs_one_thread(tmp_path):
    """Two threads must never share the tailer's journal connection."""
    import threading

    tailer = JournalTailer(MetricState(), tmp_path / "j.sqlite")
    tailer.start()
    tailer.start()
    try:
        running = [t for t in threading.enumerate() if t.name == "journal-tailer"]
        assert len(running) == 1
    finally:
        tailer.stop()


def test_rows_this_process_wrote_are_folded_without_decoding_them_again(tmp_path, monkeypatch):
    from hypertool_exporter.journal.writer import JournalWriter
    from hypertool_exporter.model.events import StageFinished

    path = tmp_path / "j.sqlite"
    state = MetricState()
    tailer = JournalTailer(state, path)
    tailer.open()
    decoded = []
    read = Journal.events_of
    monkeypatch.setattr(
        Journal,
        "events_of",
        lambda journal, rows: decoded.extend(read(journal, rows)[0]) or read(journal, rows),
    )
    own = JournalWriter(path, on_commit=tailer.expect)
    other = JournalWriter(path)  # another process, as far as the tailer knows
    first = [TokensUsed("own", "gpt-4", 10, 5, "default", 1000.0 + i) for i in range(3)]
    assert own(first, ["k1", "k2", "k3"]) == 3
    assert own(first, ["k1", "k2", "k3"]) == 0  # a retried delivery: nothing new, nothing announced
    other([TokensUsed("other", "gpt-4", 1, 1, "default", 1000.0)])
    own([StageFinished("w", "s", "own", 2.0, "passed", 1001.0)])
    tailer.step()
    assert [event.persona for event in decoded] == ["other"]  # only the foreign row was decoded
    assert tokens_of(state, "own") == 45 and tokens_of(state, "other") == 2
    # A tailer that read the rows first drops the late announcement.
    tailer.expect(1, first)
    assert tailer.announced == 0
    assert (
        replayed(path).view().counters == state.view().counters
    )  # replay from the rows: the same state
    own.close()
    other.close()


def test_a_commit_split_across_tailer_batches_is_folded_once(tmp_path):
    from hypertool_exporter.journal.writer import JournalWriter

    path = tmp_path / "j.sqlite"
    state = MetricState()
    tailer = JournalTailer(state, path, batch=3)
    tailer.open()
    own = JournalWriter(path, on_commit=tailer.expect)
    other = JournalWriter(path)
    other([TokensUsed("other", "gpt-4", 2, 0, "default", 1000.0)])
    own([TokensUsed("own", "gpt-4", 1, 0, "default", 1000.0 + i) for i in range(5)])
    # The foreign row is read back; the commit after it is split by the batch.
    while tailer.step():
        pass
    own([TokensUsed("own", "gpt-4", 10, 0, "default", 2000.0 + i) for i in range(7)])
    while tailer.step():  # the tailer's own commit, at most three events at a time
        pass
    assert tokens_of(state, "own") == 75 and tokens_of(state, "other") == 2
    assert tailer.announced == 0
    assert replayed(path).view().counters == state.view().counters
    own.close()
    other.close()


def test_a_commit_of_this_process_wakes_the_tailer(tmp_path):
    import time

    from hypertool_exporter.journal.writer import JournalWriter

    path = tmp_path / "j.sqlite"
    state = MetricState()
    tailer = JournalTailer(state, path, poll_interval=3600.0)  # it would never poll in time
    tailer.open()
    tailer.start()
    own = JournalWriter(path, on_commit=tailer.expect)
    try:
        own([TokensUsed("own", "gpt-4", 10, 5, "default", 1000.0)])
        deadline = time.monotonic() + 30
        while tokens_of(state, "own") != 15:
            assert time.monotonic() < deadline, "the commit was not folded until the next poll"
            time.sleep(0.01)
    finally:
        own.close()
        tailer.stop()


def test_a_commit_of_this_process_is_folded_by_the_thread_that_made_it(tmp_path):
    """With the tailer free, a commit is folded before the write returns: no
    hand-over to the tailer's thread (a step of the tailer under way leaves
    a commit to it, so a few of twenty may wait; the code before this rule
    folded none of them at once)."""
    import time

    from hypertool_exporter.journal.writer import JournalWriter

    path = tmp_path / "j.sqlite"
    state = MetricState()
    tailer = JournalTailer(state, path, poll_interval=3600.0)
    tailer.open()
    tailer.start()
    own = JournalWriter(path, on_commit=tailer.expect)
    at_once = 0
    try:
        for n in range(1, 21):
            own([TokensUsed("own", "gpt-4", 10, 5, "default", 1000.0 + n)])
            at_once += tokens_of(state, "own") == 15 * n
            deadline = time.monotonic() + 30
            while tokens_of(state, "own") != 15 * n:  # left to the tailer: it was woken
                assert time.monotonic() < deadline, "a commit left to the tailer was not folded"
                time.sleep(0.001)
    finally:
        own.close()
        tailer.stop()
    assert at_once >= 16


def test_folds_on_committing_threads_and_snapshots_keep_each_event_once(tmp_path):
    """Four threads commit through one writer while the tailer snapshots as
    often as it can: the state, and a start from the last snapshot, count
    every event once (whoever folds holds the tailer's fold lock, so a
    snapshot's row id and its state agree)."""
    from hypertool_exporter.journal.writer import JournalWriter

    path = tmp_path / "j.sqlite"
    state = MetricState()
    tailer = JournalTailer(state, path, poll_interval=0.001, snapshot_interval=0.0)
    tailer.open()
    tailer.start()
    own = JournalWriter(path, on_commit=tailer.expect)

    def commit(worker: int) -> None:
        for n in range(150):
            own([TokensUsed(f"w{worker}", "gpt-4", 1, 1, "default", 1000.0 + n)] * (n % 3 + 1))

    in_threads(commit, 4)
    own.close()
    tailer.catch_up()
    tailer.stop()  # a final snapshot
    expected = 2 * sum(n % 3 + 1 for n in range(150))
    assert [tokens_of(state, f"w{w}") for w in range(4)] == [expected] * 4
    restarted = replayed(path)
    assert [tokens_of(restarted, f"w{w}") for w in range(4)] == [expected] * 4


def test_a_batch_adds_to_the_daily_rows_as_its_events_one_by_one_would(tmp_path):
    from hypertool_exporter.model.events import PersonaSwitched

    events = [
        TokensUsed(
            "qa", "gpt-4", 10 + i, 2, "default", 86400.0 * 3 + i, cost_usd=0.25 * (i % 2) or None
        )
        for i in range(7)
    ] + [
        PersonaSwitched("qa", "m", None, "s", 86400.0 * 3),
        PersonaSwitched("qa", "m", None, "s", 86400.0 * 4),
    ]
    with Journal(tmp_path / "batch.sqlite") as batch, Journal(tmp_path / "single.sqlite") as single:
        batch.append(events)
        for event in events:
            single.append([event])
        query = "SELECT * FROM daily ORDER BY day, persona, model, cost_source"
        assert batch.query(query) == single.query(query)
        assert len(batch.query(query)) == 4  # two cost sources on day 3, switches on days 3 and 4


_PERSONAS = st.sampled_from(["backend-engineer", "qa", "devops"])
#: Three days: daily budget periods and half-hour price slots begin among the events.
_WHEN = st.floats(1_795_000_000.0, 1_795_259_200.0)
#: Budgets of every period; "devops" has none.
_BUDGETS = Config(
    budgets={
        "backend-engineer": Budget("daily", tokens=10**9, usd=100.0),
        "qa": Budget("weekly", usd=5.0),
        "default": Budget("monthly", tokens=10**7),
    }
)
_TRACES = st.none() | st.sampled_from(["0af7651916cd43dd8448eb211c80319c", "1" * 32])
_TEXT = st.none() | st.sampled_from(["chat", "openai", "timeout"])


def _token_events(chatmodes: st.SearchStrategy, **optional: st.SearchStrategy):
    """Token events of the three models, ``optional`` fields drawn as given."""
    models = st.sampled_from(["gpt-4o", "claude-sonnet-4", "local"])
    counts = st.integers(0, 10**6)
    return st.builds(TokensUsed, _PERSONAS, models, counts, counts, chatmodes, _WHEN, **optional)


_EVENTS = st.one_of(
    # Plain token events, the journal's most frequent: a replay adds them up.
    _token_events(st.just("default")),
    _token_events(
        st.sampled_from(["default", "review"]),
        trace_id=_TRACES,
        cost_usd=st.none() | st.floats(0, 100),
        operation=_TEXT,
        provider=_TEXT,
    ),
    st.builds(
        LLMCallFinished,
        _PERSONAS,
        st.sampled_from(["gpt-4o", "local"]),
        st.floats(0, 120),
        _TEXT,
        _WHEN,
        _TRACES,
        st.booleans(),
        _TEXT,
        _TEXT,
        st.none() | st.floats(0, 10),
    ),
    st.builds(
        StageFinished,
        st.just("release"),
        st.sampled_from(["build", "test"]),
        _PERSONAS,
        st.floats(0, 900),
        st.sampled_from([None, "passed", "failed"]),
        _WHEN,
        _TRACES,
    ),
    st.builds(
        PersonaSwitched,
        _PERSONAS,
        st.sampled_from(["a", "b"]),
        st.none() | _PERSONAS,
        st.sampled_from(["s1", "s2"]),
        _WHEN,
    ),
)


@settings(max_examples=80, deadline=None)
@given(events=st.lists(_EVENTS, max_size=60), unnamed=st.sets(_PERSONAS))
def test_a_batch_is_encoded_as_its_events_one_at_a_time_are(events, unnamed):
    """``encode_all`` (an append's loop, with its own way for plain token
    rows) gives each event the row ``encode`` gives it, and sets aside
    exactly the events that name a name without an id yet."""
    from hypertool_exporter.journal.rows import encode, encode_all, names_of

    names = dict.fromkeys(n for event in events for n in names_of(event))
    ids = {name: n for n, name in enumerate(names, start=1) if name not in unnamed}
    rows, later = encode_all(events, ids)
    assert len(rows) == len(events)
    for index, event in enumerate(events):
        if index in later:
            assert rows[index] == ()
            assert not set(names_of(event)) <= ids.keys()
        else:
            assert rows[index] == encode(event, ids.__getitem__)


_SECONDS = st.floats(0, 900) | st.sampled_from([0.0, 1e-7, 1e16, 2.5])
_COUNTS = st.integers(0, 10**6) | st.just(0)
_MONEY = st.none() | st.floats(0, 100) | st.just(0.0)
#: Every class, each optional field absent, at its default or set, in any
#: mix: the row templates' keys must tell apart every way a row can end.
_EVERY_EVENT = st.one_of(
    _EVENTS,
    st.builds(
        TokensUsed, _PERSONAS, st.sampled_from(["gpt-4o", "local"]), _COUNTS, _COUNTS,
        st.sampled_from(["default", "review"]), _WHEN, _TRACES, _COUNTS, _COUNTS, _COUNTS,
        _MONEY, _TEXT, _TEXT, st.none() | st.just("release"), st.none() | st.just("build"),
        _MONEY,
    ),
    st.builds(ToolCallFinished, _PERSONAS, st.sampled_from(["search", "run"]), _SECONDS,
              _TEXT, _WHEN, _TRACES),
    st.builds(QualityScored, _PERSONAS, st.just("relevance"), st.none() | st.floats(0, 1),
              _TEXT, _WHEN, _TRACES),
    st.builds(WorkflowRunFinished, st.just("triage"), st.sampled_from(["succeeded", "failed"]),
              _SECONDS, st.none() | _PERSONAS, _WHEN, _TRACES),
    st.builds(WorkflowCharged, st.just("triage"), st.just("plan"), st.just("gpt-4o"), _COUNTS,
              _COUNTS, _WHEN, _COUNTS, _COUNTS, _COUNTS, _MONEY, _TRACES, _MONEY),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(events=st.lists(_EVERY_EVENT, max_size=40), unnamed=st.sets(_PERSONAS, max_size=1))
def test_rows_written_into_templates_are_the_bytes_encode_writes(events, unnamed):
    """``journal.templates``: each row written into a template (made from an
    earlier event of its kind, in this batch or an earlier one) is the row
    ``encode`` writes, byte for byte; an event whose names lack ids waits."""
    import orjson  # noqa: F401  # templates are used while it is loaded, as in serve

    from hypertool_exporter.journal.rows import encode, encode_all, names_of

    names = dict.fromkeys(n for event in events for n in names_of(event))
    ids = {name: n for n, name in enumerate(names, start=1) if name not in unnamed}
    templates: dict = {}
    for _ in range(2):  # the second time, every template was made the first
        rows, later = encode_all(events, ids, templates)
        for index, event in enumerate(events):
            if index in later:
                assert rows[index] == ()
            else:
                assert rows[index] == encode(event, ids.__getitem__), event


def _rows_that_end_differently():
    """Events of one label set that differ only in what their rows leave
    out at the end, write as null, or write in an exponent."""
    trace = "0af7651916cd43dd8448eb211c80319c"
    for parts in itertools.product((0, 5), repeat=3):
        yield TokensUsed("qa", "gpt-4o", 10, 2, "default", 1_795_000_000.0, None, *parts)
        yield WorkflowCharged("triage", "plan", "gpt-4o", 10, 2, 1_795_000_000.0, *parts)
    for value in (None, 0.0, 1e-07, 2.5, 1e16):
        yield TokensUsed("qa", "gpt-4o", 10, 2, "default", 1_795_000_000.0, trace, 0, 0, 0, value)
        yield ToolCallFinished("qa", "search", value or 0.0, None, 1_795_000_000.0, None)
        yield QualityScored("qa", "relevance", value, None if value else "ok", 1_795_000_000.0)
        yield LLMCallFinished(
            "qa", "gpt-4o", 1.5, None, 1_795_000_000.0, None, False, None, None, value
        )


@pytest.mark.parametrize("most_slots", [3, 99])  # as shipped, and every class templated
@pytest.mark.parametrize("order", ["as made", "reversed"])
def test_rows_that_end_differently_get_templates_of_their_own(order, most_slots, monkeypatch):
    """A template is shared only by rows whose text around their numbers is
    the same: a count at its default at the end is left out, a None is
    null, and a float is written as orjson writes it (``1e-7``)."""
    import orjson  # noqa: F401  # templates are used while it is loaded

    from hypertool_exporter.journal import templates
    from hypertool_exporter.journal.rows import encode, encode_all, names_of

    monkeypatch.setattr(templates, "MOST_SLOTS", most_slots)
    events = list(_rows_that_end_differently())
    if order == "reversed":
        events.reverse()
    ids = {n: i for i, n in enumerate(dict.fromkeys(n for e in events for n in names_of(e)), 1)}
    rows, later = encode_all(events, ids, {})
    assert not later
    assert rows == [encode(event, ids.__getitem__) for event in events]


@settings(max_examples=80, deadline=None)
@given(events=st.lists(_EVENTS, max_size=60))
def test_the_daily_rows_of_a_batch_are_its_events_totals(events):
    """``daily_rows``, plain token events' short way included, against the
    rule written out: per UTC day, persona, model and cost source, the sums
    of the token counts and costs, the switches and the failed gates."""
    from hypertool_exporter.journal.rollup import daily_rows

    expected: dict[tuple, list] = {}
    for event in events:
        if isinstance(event, TokensUsed):
            if event.cost_usd is not None:
                source, cost = "reported", event.cost_usd
            elif event.cost_estimate_usd is not None:
                source, cost = "instrumentation", event.cost_estimate_usd
            else:
                source, cost = "", 0.0
            key = (int(event.ts // 86400), event.persona, event.model, source)
            add = [event.input_tokens, event.output_tokens, event.cache_read_tokens]
            add += [event.cache_write_tokens, event.reasoning_tokens, cost, 0, 0]
        elif isinstance(event, PersonaSwitched):
            key = (int(event.ts // 86400), event.to_persona, "", "")
            add = [0, 0, 0, 0, 0, 0.0, 1, 0]
        elif isinstance(event, StageFinished) and event.gate == "failed":
            key = (int(event.ts // 86400), event.persona, "", "")
            add = [0, 0, 0, 0, 0, 0.0, 0, 1]
        else:
            continue
        totals = expected.setdefault(key, [0, 0, 0, 0, 0, 0.0, 0, 0])
        for index, value in enumerate(add):
            totals[index] += value
    assert daily_rows(events) == [(*key, *totals) for key, totals in expected.items()]


@settings(max_examples=60, deadline=None)
@given(events=st.lists(_EVENTS, max_size=120), cut=st.integers(0, 120))
def test_replaying_a_journal_gives_the_state_folding_its_events_gives(events, cut):
    """Whatever events a journal holds, a replay (with or without a snapshot
    part way) ends in exactly the state their fold in order gives, one at a
    time (``apply``); budgets of every period included. (A replay adds plain
    token events up a label set at a time: ``fold.batches``.)"""
    import tempfile

    direct = MetricState(_BUDGETS)
    for event in events:
        direct.apply(event)
    with tempfile.TemporaryDirectory() as tmp:
        snapshotted, plain = Path(tmp) / "snapshotted.sqlite", Path(tmp) / "plain.sqlite"
        first = JournalTailer(MetricState(_BUDGETS), snapshotted, batch=7)  # split appends
        first.open()
        with Journal(snapshotted) as journal, Journal(plain) as other:
            journal.append(events[:cut])
            other.append(events[:cut])
            first.catch_up()
            first.snapshot()  # part way
            journal.append(events[cut:])
            other.append(events[cut:])
        first.stop()
        expected = snapshot_of(direct)
        for path in (snapshotted, plain):
            assert snapshot_of(replayed(path, 7, config=_BUDGETS)) == expected, path.name
        # Read and decoded by a helper process (a long backlog's way).
        assert snapshot_of(replayed(plain, helper_from=0, config=_BUDGETS)) == expected


def test_compaction_gives_space_back_to_the_file_system(tmp_path):
    import os

    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        assert journal.query("PRAGMA auto_vacuum") == [(2,)]  # incremental, from the start
        for start in range(0, 40_000, 5_000):
            journal.append(
                [
                    TokensUsed("p", "gpt-4", 1, 2, "default", 1000.0 + n)
                    for n in range(start, start + 5_000)
                ]
            )
        journal.query("PRAGMA wal_checkpoint(TRUNCATE)")
        full = os.path.getsize(path)
        assert journal.compact(journal.last_id(), older_than=1e9) == 40_000
        journal.query("PRAGMA wal_checkpoint(TRUNCATE)")
        assert os.path.getsize(path) < full / 4


def _varied_events(count: int) -> list:
    """Events of every kind, with and without their optional fields."""
    events = []
    for n in range(count):
        persona, ts = f"p{n % 7}", 1_700_000_000.0 + n * 0.37
        trace = f"{n:032x}" if n % 5 == 0 else None
        kind = n % 4
        if kind == 0:
            events.append(
                TokensUsed(persona, "gpt-4o", n % 900, n % 300, f"m{n % 3}", ts, trace,
                           n % 4, n % 3, 0, 0.001 * (n % 7) if n % 11 == 0 else None)
            )  # fmt: skip
        elif kind == 1:
            events.append(
                LLMCallFinished(persona, "gpt-4o", 0.01 * (n % 97), "timeout" if n % 13 == 0
                                else None, ts, trace, n % 17 == 0, None, None,
                                0.2 if n % 6 == 1 else None)
            )  # fmt: skip
        elif kind == 2:
            gate = (None, "passed", "failed")[n % 3]
            events.append(StageFinished("release", f"s{n % 4}", persona, 0.5 * (n % 40), gate, ts))
        else:
            events.append(PersonaSwitched(persona, "code", None, f"session-{n % 9}", ts))
    return events


def _cores(monkeypatch, count: int, split: bool = False) -> None:
    """Let the replay see ``count`` cores (it picks a helper process on two
    or more): each path is tested on any machine, one core included. With
    ``split``, a backlog of several kinds is split by kind (``sync.splitter``)
    however short; else it goes to the helper that only decodes."""
    from hypertool_exporter.sync import replayer, splitter

    monkeypatch.setattr(replayer, "cores", lambda: count)
    if split:  # a small backlog, as if the helper started at no cost
        monkeypatch.setattr(splitter, "HELPER_START", 0.0)
    else:
        monkeypatch.setattr(splitter, "WORTH_SPLITTING", 0.0)


def _corrupt(path, *rows: tuple) -> None:
    """Write ``(ts, kind, body)`` rows straight into the journal's file, as a
    damaged disk or another program could: no validation on the way."""
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.executemany("INSERT INTO events (ts, kind, body) VALUES (?, ?, ?)", rows)


def _journal_with_bad_rows(path, events: list) -> None:
    with Journal(path) as journal:
        half = len(events) // 2
        journal.append(events[:half])
        _corrupt(path, (1, 2, "[not json"), (1, 2, "[1, 2, -5]"))
        journal.append(events[half:])


def _same_state(one: MetricState, other: MetricState) -> None:
    assert one.to_json() == other.to_json()
    assert one.view().exemplars == other.view().exemplars
    assert list(one.view().recent_failed_gates) == list(other.view().recent_failed_gates)


def test_a_helper_process_replays_a_long_backlog_to_the_same_state(tmp_path, monkeypatch):
    """A backlog of ``helper_from`` rows or more is read and decoded by a
    helper process (``sync.replayer``): its chunks fold to exactly the state
    a replay in this process reaches, rows that are not events rejected alike."""
    from hypertool_exporter.sync import replayer

    _cores(monkeypatch, 2)  # the helper's path, whatever this machine has

    path = tmp_path / "j.sqlite"
    _journal_with_bad_rows(path, _varied_events(12_000))
    chunks = []
    real = replayer.chunks
    monkeypatch.setattr(replayer, "chunks", lambda *a: (chunks.append(c) or c for c in real(*a)))
    helped = replayed(path, helper_from=0)
    assert [chunk[0] for chunk in chunks] == [5000, 10_000, 12_002]  # all of it
    alone = replayed(path, helper_from=None)
    _same_state(helped, alone)
    assert alone.view().counters[c.EVENTS_REJECTED.name] == {
        ("malformed",): 1.0,
        ("invalid_field",): 1.0,
    }
    assert sum(alone.view().counters[c.EVENTS_APPLIED.name].values()) == 12_000
    # Below the threshold, no helper is started; nor on one core, where it
    # and the fold would take turns.
    chunks.clear()
    _same_state(replayed(path, helper_from=20_000), alone)
    _cores(monkeypatch, 1)
    _same_state(replayed(path, helper_from=0), alone)
    assert chunks == []


def test_a_replay_goes_on_without_a_helper_that_fails(tmp_path, monkeypatch, caplog):
    from hypertool_exporter.sync import replayer

    _cores(monkeypatch, 2)  # the helper's path, whatever this machine has

    path = tmp_path / "j.sqlite"
    _journal_with_bad_rows(path, _varied_events(12_000))
    real = replayer.chunks

    def first_chunk_then_fail(*args):
        yield next(iter(real(*args)))
        raise replayer.ReplayError("the replay helper stopped part way through a chunk")

    monkeypatch.setattr(replayer, "chunks", first_chunk_then_fail)
    _same_state(replayed(path, helper_from=0), replayed(path, helper_from=None))
    assert "replaying the rest in this process, after event 5000" in caplog.text
    # A journal that is not there is named; a helper that exits with an
    # error before the journal's head, by its status.
    monkeypatch.setattr(replayer, "chunks", real)
    with pytest.raises(replayer.ReplayError, match=r"missing\.sqlite does not exist"):
        list(replayer.chunks(tmp_path / "missing.sqlite", 0))
    helper = subprocess.run(
        [sys.executable, "-m", replayer.__name__, str(tmp_path / "missing.sqlite"), "0", "10"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert helper.returncode == 1 and "missing.sqlite does not exist" in helper.stderr
    monkeypatch.setattr(replayer.sys, "executable", "/bin/false")
    with pytest.raises(replayer.ReplayError, match="exited with status 1"):
        list(replayer.chunks(path, 0))
    # Output that is not chunks (here, the helper's command line echoed back).
    monkeypatch.setattr(replayer.sys, "executable", "/bin/echo")
    with pytest.raises(replayer.ReplayError, match="not a chunk"):
        list(replayer.chunks(path, 0))


def test_a_start_stopped_part_way_through_a_long_replay_resumes_from_a_snapshot(
    tmp_path, monkeypatch
):
    """A replay snapshots as a running tailer does, so a start that is stopped
    part way (an orchestrator's probe giving up on it) resumes from there."""
    from hypertool_exporter.sync import replayer

    _cores(monkeypatch, 2)  # the helper's path, whatever this machine has

    path, untouched = tmp_path / "j.sqlite", tmp_path / "untouched.sqlite"
    for journal in (path, untouched):
        _journal_with_bad_rows(journal, _varied_events(12_000))
    real, folded = replayer.chunks, []

    def stopped_after_two(*args):
        for chunk in real(*args):
            folded.append(chunk[0])
            yield chunk
            if len(folded) == 2:
                raise KeyboardInterrupt  # the process is stopped here

    monkeypatch.setattr(replayer, "chunks", stopped_after_two)
    first = JournalTailer(MetricState(), path, helper_from=0, snapshot_interval=0.0)
    first.open()
    with pytest.raises(KeyboardInterrupt):
        first.catch_up()
    with Journal(path) as journal:
        assert journal.load_snapshot()[0] == folded[-1] == 10_000  # kept up with the chunks
    monkeypatch.setattr(replayer, "chunks", real)
    resumed = replayed(path, helper_from=0)  # exemplars are not snapshotted: recent ones only
    assert resumed.to_json() == replayed(untouched, helper_from=None).to_json()


def test_a_replay_pauses_cyclic_garbage_collection_and_resumes_it(tmp_path, monkeypatch):
    """A replay makes no cycles; collecting during it walked the heap again
    and again. Paused while ``catch_up`` folds, running again after."""
    import gc

    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        journal.append([TokensUsed("p", "gpt-4", 1, 2, "default", 1000.0 + i) for i in range(50)])
    state = MetricState()
    seen = []
    fold = state.apply_all
    monkeypatch.setattr(
        state, "apply_all", lambda events: seen.append(gc.isenabled()) or fold(events)
    )
    tailer = JournalTailer(state, path, batch=10)
    tailer.open()
    assert gc.isenabled()
    tailer.catch_up()
    assert seen and not any(seen)
    assert gc.isenabled()
    assert tokens_of(state, "p") == 150
