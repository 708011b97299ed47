"""The token hot path's batches fold to exactly the state of one event at a time."""

import threading
from datetime import UTC, datetime

from harness.snapshots import snapshot_of
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from hypertool_exporter.fold.batches import BATCH_RECORDS
from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.budgets import Budget
from hypertool_exporter.model.config import Config
from hypertool_exporter.model.events import TokensUsed
from hypertool_exporter.model.pricing import SOURCE_DATABASE, Price, PriceTable, ResolvedPrice

DAY = 86_400.0
#: Two days from midnight UTC: records fall on both sides of a daily budget's reset.
START = datetime(2026, 11, 30, tzinfo=UTC).timestamp()
#: The "changing" model's price changes at noon each day.
CHEAP, DEAR = Price(0.0011, 0.0042), Price(0.0013, 0.0047)
TIERED = Price(0.00125, 0.005, tiers=((2000, Price(0.0025, 0.01)),))
LABEL_SETS = [
    ("backend-engineer", "implement", "flat"),  # a config price
    ("backend-engineer", "debug", "flat"),  # shares the GenAI histograms above
    ("backend-engineer", "review", "changing"),  # a price that changes by the hour
    ("testing-specialist", "test", "tiered"),  # priced per request
    ("devops-engineer", "deploy", "local-model"),  # unpriced
    ("unbudgeted", "default", "flat"),  # no budget applies
]


def _database(model: str, ts: float) -> ResolvedPrice:
    """A price schedule: ``changing`` costs more in each day's afternoon."""
    if model != "changing":
        return ResolvedPrice(None, "none")
    noon = (ts // DAY) * DAY + DAY / 2
    if ts < noon:
        return ResolvedPrice(CHEAP, SOURCE_DATABASE, noon - DAY / 2, noon)
    return ResolvedPrice(DEAR, SOURCE_DATABASE, noon, noon + DAY / 2)


def _config() -> Config:
    budgets = {
        "backend-engineer": Budget("daily", tokens=10**9, usd=100.0),
        "testing-specialist": Budget("weekly", usd=5.0),
        "devops-engineer": Budget("monthly", tokens=10**6),
    }
    return Config(budgets=budgets, prices=PriceTable({"flat": Price(0.0025, 0.01)}, _database))


records = st.lists(
    st.tuples(
        st.integers(0, len(LABEL_SETS) - 1),
        st.integers(0, 5000) | st.sampled_from([0, 1, 4, 5, 2000, 2001]),  # bucket edges
        st.integers(0, 3000),
        # Mostly forward in time; sometimes back (a clock may step back).
        st.floats(-600.0, 7200.0, allow_nan=False) | st.just(0.0),
        st.booleans(),  # a scrape after this record
    ),
    max_size=400,
)


def _fold_both(recorded: list) -> tuple[MetricState, MetricState]:
    """The records through the collector's batches, and as events one by one."""
    now = [START]
    collector = PersonaMetricsCollector(CollectorRegistry(), config=_config(), clock=lambda: now[0])
    collector.state.set_price("tiered", TIERED)
    reference = MetricState(_config(), clock=lambda: now[0])
    reference.set_price("tiered", TIERED)
    for index, input_tokens, output_tokens, step, scrape in recorded:
        now[0] = max(START, now[0] + step)
        persona, chatmode, model = LABEL_SETS[index]
        collector.record_token_usage(persona, chatmode, model, input_tokens, output_tokens)
        reference.apply(TokensUsed(persona, model, input_tokens, output_tokens, chatmode, now[0]))
        if scrape:
            collector.state.drain()
    collector.state.drain()
    return collector.state, reference


def _same(state: MetricState, reference: MetricState) -> None:
    assert snapshot_of(state) == snapshot_of(reference)
    assert state.view().counters == reference.view().counters
    assert state.to_json()["budgets"] == reference.to_json()["budgets"]


@settings(max_examples=150, deadline=None)
@given(recorded=records)
def test_batched_records_fold_exactly_as_events(recorded):
    _same(*_fold_both(recorded))


def test_full_batches_fold_while_recording_and_sum_across_buckets():
    recorded = [
        (n % 2, 10 + (n * 7919) % 4000, (n * 104729) % 900, 1.0, False)
        for n in range(5 * BATCH_RECORDS + 7)
    ]
    _same(*_fold_both(recorded))
    # Without a scrape, a batch is folded when it fills: memory stays bounded.
    collector = PersonaMetricsCollector(CollectorRegistry(), config=_config())
    for n in range(5 * BATCH_RECORDS + 7):
        collector.record_token_usage("backend-engineer", "implement", "flat", n, 1)
    applied = collector.state.view().counters[c.EVENTS_APPLIED.name][(TokensUsed.TYPE,)]
    assert 5 * BATCH_RECORDS - BATCH_RECORDS < applied <= 5 * BATCH_RECORDS + 7
    assert collector.state.batches.waiting() < BATCH_RECORDS  # one label set


def test_no_record_is_lost_while_threads_record_and_scrapes_fold():
    collector = PersonaMetricsCollector(CollectorRegistry(), config=_config())
    per_thread, threads = 10_000, 4

    def work(offset: int) -> None:
        for n in range(per_thread):
            persona, chatmode, model = LABEL_SETS[(n + offset) % 3]
            collector.record_token_usage(persona, chatmode, model, n % 700, 1)

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for worker in workers:
        worker.start()
    while any(worker.is_alive() for worker in workers):
        collector.state.drain()  # scrapes fold while records arrive
    collector.state.drain()
    applied = collector.state.view().counters[c.EVENTS_APPLIED.name][(TokensUsed.TYPE,)]
    assert applied == per_thread * threads
    tokens = collector.state.view().counters[c.PERSONA_TOKENS.name]
    outputs = sum(v for key, v in tokens.items() if key[3] == "output")
    inputs = sum(v for key, v in tokens.items() if key[3] == "input")
    assert outputs == per_thread * threads
    assert inputs == threads * sum(n % 700 for n in range(per_thread))


def test_a_record_inside_a_trace_folds_at_once_with_its_exemplar():
    collector = PersonaMetricsCollector(CollectorRegistry(), config=_config())
    persona, chatmode, model = LABEL_SETS[0]
    collector.record_token_usage(persona, chatmode, model, 5, 1)  # caches the label set
    collector.record_token_usage(persona, chatmode, model, 7, 2)  # batched
    trace = "ab" * 16
    collector.record_token_usage(persona, chatmode, model, 11, 3, trace_id=trace)
    # The batched record waits; the traced one was folded at once, as an event.
    assert collector.state.batches.waiting() == 1
    view = collector.state.view()
    key = (persona, chatmode, model, "input")
    assert view.counters[c.PERSONA_TOKENS.name][key] == 5 + 7 + 11
    assert view.exemplars[(c.PERSONA_TOKENS.name, key, -1)][:2] == (trace, 11)
    assert collector.state.batches.waiting() == 0


def _counting_events(state: MetricState) -> list:
    """Every event ``state`` folds one by one from now on (``_tokens_used``)."""
    folded: list = []
    real = state.handlers.tokens_used
    state.handlers.tokens_used = lambda event: folded.append(event) or real(event)
    return folded


def test_a_batch_that_a_price_change_or_budget_period_divides_is_added_up_on_each_side():
    """Records of one batch on both sides of noon (a price change) and of
    midnight (a daily budget's reset): one record as an event where each
    begins, the rest as sums, to the state of folding each."""
    state, reference = MetricState(_config()), MetricState(_config())
    labels = ("backend-engineer", "review", "changing")
    times = [START + DAY / 2 - 3600 + 90.0 * n for n in range(100)]  # 11:00 to 13:29
    times += [START + DAY - 600 + 30.0 * n for n in range(40)]  # 23:50 to 00:09:30
    state.apply(TokensUsed("backend-engineer", "changing", 1, 1, "review", START))
    reference.apply(TokensUsed("backend-engineer", "changing", 1, 1, "review", START))
    folded = _counting_events(state)
    batch = state.batches.batch_for(labels)
    for n, ts in enumerate(reversed(times)):  # out of order: a batch is sorted by time
        batch += (100 + n, 7 * n, ts)
        reference.apply(TokensUsed("backend-engineer", "changing", 100 + n, 7 * n, "review", ts))
    state.drain()
    # Where the 11:00, 12:00 (price), 12:30 (price slot's end), 23:50 and
    # 00:00 (budget) runs begin.
    assert len(folded) <= 6
    _same(state, reference)


def test_a_tiered_price_adds_up_requests_below_its_first_threshold():
    state, reference = MetricState(_config()), MetricState(_config())
    for target in (state, reference):
        target.set_price("tiered", TIERED)
        target.apply(TokensUsed("testing-specialist", "tiered", 1, 1, "test", START))
    folded = _counting_events(state)
    batch = state.batches.batch_for(("testing-specialist", "test", "tiered"))
    for n in range(200):
        input_tokens = 2000 - n  # the threshold's own value is below it
        batch += (input_tokens, n, START + n)
        reference.apply(
            TokensUsed("testing-specialist", "tiered", input_tokens, n, "test", START + n)
        )
    state.drain()
    assert folded == []
    batch += (2001, 1, START + 300.0)  # past the threshold: priced per request
    reference.apply(TokensUsed("testing-specialist", "tiered", 2001, 1, "test", START + 300.0))
    state.drain()
    assert len(folded) == 1
    _same(state, reference)


def test_a_replay_adds_up_plain_token_events_after_their_label_sets_first():
    """``apply_all`` (the journal's door): plain token events join their label
    set's batch; the first of each label set, and token events with a trace
    id, a reported cost or token parts, are folded in their place."""
    state, reference = MetricState(_config()), MetricState(_config())
    for target in (state, reference):
        target.set_price("tiered", TIERED)
    events = []
    for n in range(3000):
        persona, chatmode, model = LABEL_SETS[n % len(LABEL_SETS)]
        extra = {"trace_id": f"{n:032x}"} if n % 500 == 7 else {}
        extra |= {"cost_usd": 0.25} if n % 700 == 9 else {}
        ts = START + 40.0 * n  # 33 hours: price changes and budget resets among them
        # Below the tiered price's threshold but once: requests past it are priced each.
        input_tokens = 2001 if n == 1503 else n % 2000
        events.append(TokensUsed(persona, model, input_tokens, n % 300, chatmode, ts, **extra))
    folded = _counting_events(state)
    for start in range(0, len(events), 500):
        state.apply_all(events[start : start + 500])
    for event in events:
        reference.apply(event)
    state.drain()
    # The firsts, the traced, those with a reported cost, the batch with a
    # request past the tiered threshold; and where price windows and budget
    # periods begin (a few a label set).
    must = len(LABEL_SETS) + 6 + 5
    assert must + 1 <= len(folded) < must + BATCH_RECORDS + 5 * len(LABEL_SETS)
    _same(state, reference)
    assert state.view().exemplars == reference.view().exemplars
