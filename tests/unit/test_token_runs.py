"""Records in runs (``model.runs``): the buffered hot path keeps a label
set's records as their values (three for a plain token record, seven for one
with usage options, two for a tool call, a stage or an LLM call, four for a switch, a
run a session), and the journal writes, the daily rows add up and the fold
folds a run exactly as it would the events it stands for; a commit that is
not next in line is folded as those events."""

import pytest
from harness.snapshots import snapshot_of
from harness.support import in_threads, wait_for
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from test_batches import DAY, LABEL_SETS, START, TIERED, _config
from test_journal import _BUDGETS, _EVENTS, replayed

from hypertool_exporter.fold import batches
from hypertool_exporter.fold.sessions import MAX_SESSIONS
from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.journal.rollup import DAILY_KEY, daily_rows
from hypertool_exporter.journal.rows import encode
from hypertool_exporter.journal.run_rows import encode_runs
from hypertool_exporter.journal.store import Journal
from hypertool_exporter.journal.writer import JournalWriter
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.config import Config, parse_config
from hypertool_exporter.model.events import LLMCallFinished, PersonaSwitched, StageFinished
from hypertool_exporter.model.runs import names_in, records_in, run_events, width_of
from hypertool_exporter.model.work import ToolCallFinished
from hypertool_exporter.sync.tailer import JournalTailer

#: (persona, chat mode, model): budgeted and not, two chat modes, priced and not.
_LABELS = st.sampled_from(
    [
        ("backend-engineer", "default", "gpt-4o"),
        ("qa", "review", "claude-sonnet-4"),
        ("devops", "default", "local"),
    ]
)
#: A run's records: whole counts, times over three days (budget periods and
#: price slots begin among them; one run may cross midnight).
_RECORD = st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.floats(1.795e9, 1.79526e9))
_PLAIN_RUNS = st.dictionaries(_LABELS, st.lists(_RECORD, min_size=1, max_size=40), max_size=3)
#: Records with usage options: label sets with and without an operation and a
#: provider; cache parts within the input, reasoning within the output; costs
#: reported or not (binary fractions, so that a daily total's float sum is
#: the same in any order; the fold sums whole femto-dollars either way).
_USAGE_LABELS = st.tuples(
    _LABELS, st.sampled_from([None, "chat"]), st.sampled_from([None, "openai"])
)
_USAGE_RECORD = st.tuples(
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.sampled_from([None, None, 0.0, 0.5, 0.001953125, 3.25]),
    st.floats(1.795e9, 1.79526e9),
).map(lambda r: (r[0] + r[2] + r[3], r[1] + r[4], *r[2:]))
_USAGE_RUNS = st.dictionaries(
    _USAGE_LABELS.map(lambda t: (*t[0], t[1], t[2])),
    st.lists(_USAGE_RECORD, min_size=1, max_size=40),
    max_size=3,
)
#: Tool calls, workflow stages and LLM calls: (event class, label values...),
#: seconds and time.
_EVENT_LABELS = st.sampled_from(
    [
        (ToolCallFinished, "backend-engineer", "search", None),
        (ToolCallFinished, "qa", "run_tests", "TimeoutError"),
        (StageFinished, "release", "build", "devops", None),
        (StageFinished, "release", "test", "qa", "passed"),
        (StageFinished, "release", "test", "qa", "failed"),
        (LLMCallFinished, "qa", "gpt-4o", None, "chat", "openai", False),
        (LLMCallFinished, "devops", "local", "Timeout", None, None, True),
    ]
)
_EVENT_RECORD = st.tuples(st.floats(0.0, 4000.0), st.floats(1.795e9, 1.79526e9))
_EVENT_RUNS = st.dictionaries(
    _EVENT_LABELS, st.lists(_EVENT_RECORD, min_size=1, max_size=40), max_size=3
)
#: Persona switches, a run a session: persona, chat mode, previous persona
#: (or none: the session's stands) and time, out of order at times.
_SWITCH_RUNS = st.dictionaries(
    st.sampled_from([(PersonaSwitched, "default"), (PersonaSwitched, "ticket-7")]),
    st.lists(
        st.tuples(
            st.sampled_from(["backend-engineer", "qa", "devops"]),
            st.sampled_from(["implement", "review"]),
            st.sampled_from([None, "qa", "architect"]),
            st.floats(1.795e9, 1.79526e9),
        ),
        min_size=1,
        max_size=40,
    ),
    max_size=2,
)
_RUNS = st.tuples(_PLAIN_RUNS, _USAGE_RUNS, _EVENT_RUNS, _SWITCH_RUNS).map(
    lambda both: [
        (labels, [x for r in records for x in r])
        for runs in both
        for labels, records in runs.items()
    ]
)


def _summed(rows):
    """Daily rows as key -> totals, whatever their order and split."""
    totals = {}
    for row in rows:
        key, values = row[: len(DAILY_KEY)], row[len(DAILY_KEY) :]
        totals[key] = [
            a + b for a, b in zip(totals.get(key, [0] * len(values)), values, strict=True)
        ]
    return totals


@settings(max_examples=60, deadline=None)
@given(runs=_RUNS, events=st.lists(_EVENTS, max_size=20))
def test_runs_are_journalled_and_rolled_up_as_their_events(runs, events):
    names = set(names_in(runs))
    ids = {name: n for n, name in enumerate(sorted(names), start=1)}
    standing = run_events(runs)
    assert len(standing) == records_in(runs)
    assert encode_runs(runs, ids.__getitem__) == [encode(e, ids.__getitem__) for e in standing]
    assert _summed(daily_rows(events, runs)) == _summed(daily_rows(events + standing))


@pytest.mark.parametrize("most_batches", [batches.MAX_BATCHES, 1])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(runs=_RUNS, events=st.lists(_EVENTS, max_size=20), folded_first=st.booleans())
def test_a_run_folds_to_the_state_of_its_events(
    monkeypatch, most_batches, runs, events, folded_first
):
    """``apply_runs`` against ``apply_all`` of the events the runs stand for,
    with budgets of every period, after other events, with the label sets'
    first records folded before or not, and past the batches' cap."""
    monkeypatch.setattr(batches, "MAX_BATCHES", most_batches)
    by_runs, by_events = MetricState(_BUDGETS), MetricState(_BUDGETS)
    for state in (by_runs, by_events):
        state.apply_all(events)
        if folded_first:
            state.apply_all(run_events([(labels, run[: width_of(labels)]) for labels, run in runs]))
    by_runs.apply_runs(runs)
    by_events.apply_all(run_events(runs))
    by_runs.drain()
    by_events.drain()
    assert snapshot_of(by_runs) == snapshot_of(by_events)
    failed = by_runs.view().recent_failed_gates  # shown on the status page, not snapshotted
    assert failed == by_events.view().recent_failed_gates


@settings(max_examples=40, deadline=None)
@given(runs=_RUNS, events=st.lists(_EVENTS, max_size=10))
def test_runs_past_a_label_cap_count_each_records_refusals(runs, events):
    """With one value a label, most label sets hold a refused value: a plan
    holding one is never cached, so each of their records is folded as its
    event and counts its own refusal, as a replay's events do."""
    capped = Config(budgets=_BUDGETS.budgets, max_label_values=1)
    by_runs, by_events = MetricState(capped), MetricState(capped)
    for state in (by_runs, by_events):
        state.apply_all(events)
    by_runs.apply_runs(runs)
    by_events.apply_all(run_events(runs))
    by_runs.drain()
    by_events.drain()
    assert snapshot_of(by_runs) == snapshot_of(by_events)


def test_a_switch_run_past_the_sessions_kept_drops_the_sessions_its_events_drop():
    """Sessions full (``MAX_SESSIONS``): a new session's run drops the least
    recently switched one, and a kept session's run keeps it, its switches
    measured against the session's last, as its events do one by one."""
    first = [
        PersonaSwitched("qa", "implement", None, f"s{n}", 1.795e9 + n) for n in range(MAX_SESSIONS)
    ]
    later = 1.795e9 + MAX_SESSIONS
    runs = [
        (
            (PersonaSwitched, "s1"),
            ["devops", "review", None, later, "qa", "review", None, later + 5.0],
        ),
        ((PersonaSwitched, "new"), ["qa", "implement", "devops", later + 1.0]),
    ]
    by_runs, by_events = MetricState(), MetricState()
    for state in (by_runs, by_events):
        state.apply_all(first)
    by_runs.apply_runs(runs)
    by_events.apply_all(run_events(runs))
    assert snapshot_of(by_runs) == snapshot_of(by_events)
    sessions = by_runs.view().sessions
    assert len(sessions) == MAX_SESSIONS
    assert "s0" not in sessions and sessions["s1"][0] == "qa" and "new" in sessions


def _applied(state):
    return sum(state.view().counters.get(c.EVENTS_APPLIED.name, {}).values())


def _tokens(state):
    state.drain()
    return sum(state.view().counters.get(c.PERSONA_TOKENS.name, {}).values())


def test_a_buffered_collector_folds_its_runs_to_the_state_a_replay_reaches(tmp_path):
    """Two threads recording plain token records, records with usage options,
    tool calls, stages and switches (runs of each form) and other events, each thread
    its own label sets: the process's own state after the last commit is the
    state a fresh replay of the journal reaches."""
    path = tmp_path / "j.sqlite"
    collector = PersonaMetricsCollector(
        CollectorRegistry(), config=parse_config("journal: {durability: buffered}\n"), journal=path
    )

    def record(worker: int) -> None:
        for n in range(3000):
            persona = f"w{worker}-{n % 3}"
            if n % 250 == 7:
                collector.record_token_usage(persona, "implement", "gpt-4o", n, 1, cost_usd=0.01)
            elif n % 6 == 5:  # usage options with a provider, reported and not
                collector.record_token_usage(
                    persona, "implement", "gpt-4o", n % 97 + 2, n % 5 + 1,
                    cache_read_tokens=1, cache_write_tokens=1, reasoning_tokens=1,
                    cost_usd=0.002 if n % 4 == 1 else None, provider="openai", operation="chat",
                )  # fmt: skip
            elif n % 400 == 9:  # its tokens with options None, as record_llm_call passes them
                collector.record_llm_call(
                    persona, "gpt-4o", 0.5, input_tokens=n % 7, output_tokens=1
                )
            else:
                collector.record_token_usage(persona, "implement", "gpt-4o", n % 97, n % 5)
            if n % 7 == 3:  # tool calls and stages: event runs, failed and not
                collector.record_tool_call(
                    persona, "search", n / 1000, "Timeout" if n % 2 else None
                )
            if n % 11 == 4:
                collector.record_workflow_stage("release", "build", persona, n / 100, n % 3 == 0)
            if n % 13 == 6:  # a run a session: the thread's own, and a second one
                successor = f"w{worker}-{(n + 1) % 3}"
                collector.switch_persona(persona, successor, session=f"s{worker}-{n % 2}")

    in_threads(record, 2)
    collector.flush()
    tokens = [n + 1 if n % 250 == 7 else n % 97 + n % 5 + (3 if n % 6 == 5 else 0)
              if n % 400 != 9 or n % 250 == 7 or n % 6 == 5 else n % 7 + 1
              for n in range(3000)]  # fmt: skip
    expected = 2 * sum(tokens)
    wait_for(lambda: _tokens(collector.state) == expected or None, what=f"{expected} tokens")
    calls = 2 * sum(n % 400 == 9 and n % 250 != 7 and n % 6 != 5 for n in range(3000))
    events = calls + 2 * sum(1 + (n % 7 == 3) + (n % 11 == 4) + (n % 13 == 6) for n in range(3000))
    wait_for(lambda: _applied(collector.state) == events or None, what=f"{events} events")
    live = snapshot_of(collector.state)
    collector.close()
    assert live == snapshot_of(replayed(path))


def test_a_commit_that_is_not_next_in_line_is_folded_as_its_events(tmp_path):
    """With no tailer thread folding on the committer's behalf, or rows of
    another process ahead of the commit, its runs are announced as the
    events they stand for and folded in journal order by the tailer."""
    path = tmp_path / "j.sqlite"
    state = MetricState()
    tailer = JournalTailer(state, path)
    tailer.open()
    own = JournalWriter(path, on_commit=tailer.expect)
    pending = own.pending()
    for n in range(10):
        pending.add_record(("qa", "default", "gpt-4o"), (n, 1, 1.795e9 + n))
    with Journal(path) as other:  # another process writes first
        other.append([PersonaSwitched("qa", "default", None, "s", 1.795e9)])
    own.flush()
    assert tailer.announced == 10  # no thread of the tailer runs: left to it, as events
    tailer.step()
    assert tailer.announced == 0
    own.close()
    assert snapshot_of(state) == snapshot_of(replayed(path))
    assert _tokens(state) == sum(range(10)) + 10


@settings(max_examples=60, deadline=None)
@given(
    records=st.lists(
        st.tuples(
            st.integers(0, len(LABEL_SETS) - 1),
            st.integers(0, 3000),  # input: the tiered price's threshold is 2,000
            st.integers(0, 500),
            st.sampled_from([None, None, 0.004, 0.25]),
            st.floats(0.0, 1.0),
        ),
        min_size=1,
        max_size=60,
    ),
    # One day (a noon price change among them), or two (a daily budget's reset too).
    spread=st.sampled_from([0.9 * DAY, 2 * DAY]),
)
@example(  # the changing model's price, before noon and after, in one budget period
    records=[(2, 100, 10, None, 0.1), (2, 100, 10, None, 0.2), (2, 100, 10, None, 0.8)],
    spread=0.9 * DAY,
)
def test_a_usage_run_folds_to_its_events_across_prices_and_periods(records, spread):
    """Runs of records with usage options of a flat, a changing, a tiered and
    an unpriced model, budgeted and not, over two days: ``apply_runs`` gives
    the state of folding their events one by one."""
    runs: dict = {}
    for which, input_tokens, output_tokens, cost, after in records:
        persona, chatmode, model = LABEL_SETS[which]
        cache_read, reasoning = input_tokens // 3, output_tokens // 4
        ts = START + after * spread
        record = (input_tokens, output_tokens, cache_read, 0, reasoning, cost, ts)
        runs.setdefault((persona, chatmode, model, "chat", "openai"), []).extend(record)
    by_runs, by_events = MetricState(_config()), MetricState(_config())
    for state in (by_runs, by_events):
        state.set_price("tiered", TIERED)
    by_runs.apply_runs(list(runs.items()))
    by_events.apply_all(run_events(list(runs.items())))
    assert snapshot_of(by_runs) == snapshot_of(by_events)
