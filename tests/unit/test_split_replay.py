"""A long replay split by event kind between two processes (``sync.splitter``)
and merged (``fold.merge``) ends in the state of one fold of every row in
order, or is refused and leaves the state as it was."""

import pytest
from harness.snapshots import snapshot_of
from hypothesis import given, settings
from hypothesis import strategies as st
from test_journal import (
    _BUDGETS,
    _EVENTS,
    _PERSONAS,
    _TRACES,
    _WHEN,
    _cores,
    _corrupt,
    _varied_events,
    replayed,
)

from hypertool_exporter.fold.merge import MergeConflict, merge
from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.journal.layouts import KINDS
from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model.config import Config
from hypertool_exporter.model.events import LLMCallFinished, PersonaSwitched, TokensUsed
from hypertool_exporter.model.work import (
    QualityScored,
    ToolCallFinished,
    WorkflowCharged,
    WorkflowRunFinished,
)
from hypertool_exporter.sync import replayer, splitter

_WORK = st.one_of(
    st.builds(WorkflowRunFinished, st.sampled_from(["release", "triage"]),
              st.sampled_from(["succeeded", "failed"]), st.floats(0, 900), _PERSONAS, _WHEN,
              _TRACES),
    st.builds(ToolCallFinished, _PERSONAS, st.sampled_from(["grep", "pytest"]), st.floats(0, 60),
              st.none() | st.just("timeout"), _WHEN, _TRACES),
    st.builds(QualityScored, _PERSONAS, st.sampled_from(["review", "tests"]),
              st.none() | st.floats(0, 1), st.none() | st.sampled_from(["good", "bad"]), _WHEN,
              _TRACES),
    st.builds(WorkflowCharged, st.just("release"), st.sampled_from(["build", "test"]),
              st.just("gpt-4o"), st.integers(0, 10**5), st.integers(0, 10**5), _WHEN),
)  # fmt: skip
_ALL_KINDS = sorted(KINDS.values())


def _fold(events, config: Config, base: dict | None = None) -> MetricState:
    state = MetricState(config)
    if base is not None:
        state.load_json(base)
    state.apply_all(list(events))
    return state


@settings(max_examples=150, deadline=None)
@given(
    events=st.lists(_EVENTS | _WORK, max_size=80),
    cut=st.integers(0, 80),
    theirs=st.sets(st.sampled_from(_ALL_KINDS)),
    cap=st.sampled_from([2, 3, 1000]),
)
def test_two_folds_split_by_kind_merge_to_the_fold_of_every_event_in_order(
    events, cut, theirs, cap
):
    """Whatever the events, the starting state and the kinds each side
    folds: the merge is the one fold's state (the order of series within a
    metric aside), or refuses. With the label caps out of reach, it refuses
    only what a split by kind never gives: two kinds observing into one
    histogram, or changing the sessions, budgets or failed gates together."""
    config = Config(budgets=_BUDGETS.budgets, max_label_values=cap)
    base = _fold(events[:cut], config)
    rest = events[cut:]
    mine = [e for e in rest if KINDS[e.TYPE] not in theirs]
    other = [e for e in rest if KINDS[e.TYPE] in theirs]
    ours, their_state = _fold(mine, config, base.to_json()), _fold(other, config, base.to_json())
    expected = _fold(events, config)
    try:
        merged = merge(base.to_json(), ours.to_json(), their_state.to_json(), cap)
    except MergeConflict:
        assert cap < 1000 or (mine and other)
        return
    result = MetricState(config)
    result.load_json(merged)
    assert snapshot_of(result) == snapshot_of(expected)


def test_a_merge_refuses_what_both_sides_changed_in_an_order_that_matters():
    config = Config()
    base = MetricState(config).to_json()
    # Two token events: both folds count into one series (events applied).
    one = _fold([TokensUsed("qa", "m", 1, 1, "code", 100.0)], config)
    other = _fold([TokensUsed("dev", "m", 1, 1, "code", 200.0)], config)
    with pytest.raises(MergeConflict, match="both folds changed a series of hypertool_exp"):
        merge(base, one.to_json(), other.to_json(), config.max_label_values)
    # Two switches: the sessions too.
    one = _fold([PersonaSwitched("qa", "code", None, "s1", 100.0)], config)
    other = _fold([PersonaSwitched("dev", "code", None, "s2", 200.0)], config)
    with pytest.raises(MergeConflict, match="both folds changed"):
        merge(base, one.to_json(), other.to_json(), config.max_label_values)
    # Past a label's cap, the order of admissions decides.
    capped = Config(max_label_values=1)
    one = _fold([TokensUsed("qa", "m", 1, 1)], capped)
    other = _fold([LLMCallFinished("dev", "m", 0.5)], capped)
    with pytest.raises(MergeConflict, match="more persona values than its cap"):
        merge(MetricState(capped).to_json(), one.to_json(), other.to_json(), 1)


def _same(one: MetricState, other: MetricState) -> None:
    assert snapshot_of(one) == snapshot_of(other)
    assert one.transient() == other.transient()


def _journal(path, events) -> None:
    """``events`` with rows that are not events between their halves: for
    either side of a split (kinds 2 and 3) and for none (kind 99)."""
    with Journal(path) as journal:
        half = len(events) // 2
        journal.append(events[:half])
        _corrupt(path, (1, 2, "[not json"), (1, 3, "[1, 2, -5]"), (1, 99, "[]"))
        journal.append(events[half:])


def test_a_long_backlog_is_replayed_split_by_kind_to_the_same_state(tmp_path, monkeypatch, caplog):
    """On two cores a long backlog of several kinds is split between this
    process and a helper that folds its share: the state, the exemplars and
    the failed gates are those of a replay in this process alone, and the
    rows that are not events are counted once each, on either side."""
    _cores(monkeypatch, 2, split=True)
    caplog.set_level("INFO")
    path = tmp_path / "j.sqlite"
    _journal(path, _varied_events(12_000))
    split = replayed(path, helper_from=0)
    assert "replaying about 12003 events in two processes" in caplog.text
    alone = replayed(path)
    _same(split, alone)
    rejected = alone.view().counters["hypertool_exporter_events_rejected_total"]
    assert sum(rejected.values()) == 3
    assert split.view().counters["hypertool_exporter_events_rejected_total"] == rejected
    # A segment at a time, snapshotted between them: the same state.
    monkeypatch.setattr(splitter, "SEGMENT_ROWS", 5000)
    caplog.clear()
    _same(replayed(path, helper_from=0), alone)
    assert caplog.text.count("in two processes") == 3


def test_a_split_replay_keeps_what_other_threads_counted_meanwhile():
    """While the tailer replays, other threads may count a rejected event
    or a journal error: the replayed state that replaces the live one keeps
    those counts."""
    state = MetricState()
    state.reject("malformed")
    base = state.to_json()
    replayed = _fold([TokensUsed("qa", "gpt-4o", 10, 5, "code", 100.0)], Config(), base)
    state.reject("malformed")  # meanwhile
    state.count_journal_error()
    state.adopt(base, replayed.to_json(), replayed.transient())
    counters = state.view().counters
    assert counters["hypertool_exporter_events_rejected_total"] == {("malformed",): 2.0}
    assert counters["hypertool_exporter_journal_errors_total"] == {(): 1.0}
    assert counters["hypertool_exporter_events_applied_total"] == {("tokens_used",): 1.0}


def test_the_split_is_worked_out_from_the_kinds_of_the_backlog(tmp_path, monkeypatch):
    """Both sides get about the same work; token events are folded here,
    with this process's prices; a backlog of one kind is not split, nor one
    so short that starting the helper costs more than it saves."""
    mixed, tokens = tmp_path / "mixed.sqlite", tmp_path / "tokens.sqlite"
    _journal(mixed, _varied_events(8_000))
    with Journal(tokens) as journal:
        journal.append([TokensUsed("qa", "gpt-4o", n, 1, "code", 1e9 + n) for n in range(5_000)])
    with Journal(mixed) as journal:
        assert splitter.kinds_for_helper(journal, 0, journal.last_id()) is None  # 8,003 rows
        monkeypatch.setattr(splitter, "HELPER_START", 0.0)  # as if it were long
        chosen = splitter.kinds_for_helper(journal, 0, journal.last_id())
    assert chosen is not None
    assert not chosen & splitter.PRICED_HERE
    assert chosen in (
        {KINDS["persona_switched"], KINDS["llm_call_finished"]},
        {KINDS["stage_finished"], KINDS["llm_call_finished"]},
    )
    with Journal(tokens) as journal:
        assert splitter.kinds_for_helper(journal, 0, journal.last_id()) is None


def test_the_split_weighs_a_traced_token_row_above_a_plain_one(tmp_path, monkeypatch):
    """A token row with a trace id and a stage to charge (an instrumented
    workflow's call) costs about three times a plain one, which a replay
    adds up as runs: beside it the helper takes both other kinds, beside
    plain ones only the costlier."""
    monkeypatch.setattr(splitter, "HELPER_START", 0.0)  # as if the backlog were long

    def chosen(traced: bool) -> frozenset[int] | None:
        path = tmp_path / f"traced-{traced}.sqlite"
        events = []
        for n in range(3_000):
            extra = {"trace_id": f"{n:032x}", "workflow": "w", "stage": "s"} if traced else {}
            events += [
                TokensUsed("qa", "gpt-4o", 10, 1, "code", 1e9 + n, **extra),
                PersonaSwitched("qa", "code", None, "s1", 1e9 + n),
                LLMCallFinished("qa", "gpt-4o", 0.5, None, 1e9 + n),
            ]
        with Journal(path) as journal:
            journal.append(events)
            return splitter.kinds_for_helper(journal, 0, journal.last_id())

    switches, calls = KINDS["persona_switched"], KINDS["llm_call_finished"]
    assert chosen(traced=True) == {switches, calls}
    assert chosen(traced=False) == {switches}


def test_a_refused_or_failed_split_leaves_the_state_and_the_replay_goes_on(
    tmp_path, monkeypatch, caplog
):
    """Past the label caps the order of admissions decides: the merge
    refuses, the state stays as it was, and the replay goes the other way
    to the same state. So does a helper that fails."""
    _cores(monkeypatch, 2, split=True)
    path = tmp_path / "j.sqlite"
    _journal(path, _varied_events(6_000))
    capped = Config(max_label_values=3)  # seven personas
    state = MetricState(capped)
    before = state.to_json()
    with Journal(path) as journal, pytest.raises(MergeConflict):
        splitter.replay(state, journal, 0, journal.last_id(), frozenset({KINDS["stage_finished"]}))
    assert state.to_json() == before
    _same(replayed(path, helper_from=0, config=capped), replayed(path, config=capped))
    assert "replaying with a helper that only decodes" in caplog.text

    monkeypatch.setattr(splitter.sys, "executable", "/bin/false")
    caplog.clear()
    with Journal(path) as journal, pytest.raises(replayer.ReplayError, match="exited with status"):
        splitter.replay(state, journal, 0, journal.last_id(), frozenset({KINDS["stage_finished"]}))
    assert state.to_json() == before
