"""Budget periods roll over at the UTC boundary, also when the exporter was down."""

from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from hypertool_exporter.exposition.snapshot import StateCollector
from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model.events import TokensUsed
from hypertool_exporter.sync.tailer import JournalTailer


def ts(*args) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


class Clock:
    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def budget(state: MetricState, name: str, **labels) -> float | None:
    registry = CollectorRegistry()
    registry.register(StateCollector(state))
    return registry.get_sample_value(name, {"persona": "backend-engineer", **labels})


def test_rollover_while_running(example_config):
    clock = Clock(ts(2026, 11, 22, 23, 59, 0))
    state = MetricState(example_config, clock)
    state.apply(TokensUsed("backend-engineer", "gpt-4", 6000, 0, "default", clock.now))
    assert budget(state, "hypertool_persona_token_budget_remaining") == -1000
    assert budget(state, "hypertool_persona_token_budget_reset_seconds") == 60
    clock.now = ts(2026, 11, 23, 0, 0, 1)  # no event: the scrape alone sees the new day
    assert budget(state, "hypertool_persona_token_budget_remaining") == 5000
    assert budget(state, "hypertool_persona_token_budget_used", period="daily") == 0
    assert budget(state, "hypertool_persona_token_budget_reset_seconds") == 86399


def test_rollover_crossed_while_the_exporter_was_down(example_config, tmp_path):
    path = tmp_path / "j.sqlite"
    day1 = ts(2026, 11, 22, 22, 0)
    with Journal(path) as journal:
        journal.append([TokensUsed("backend-engineer", "gpt-4", 4000, 0, "default", day1)])
    before = MetricState(example_config, Clock(day1 + 60))
    tailer = JournalTailer(before, path)
    tailer.open()
    tailer.catch_up()
    tailer.snapshot()
    tailer.stop()
    assert budget(before, "hypertool_persona_token_budget_used", period="daily") == 4000

    # Down over midnight; meanwhile a CLI recorded usage on the new day.
    day2 = ts(2026, 11, 23, 9, 0)
    with Journal(path) as journal:
        journal.append([TokensUsed("backend-engineer", "gpt-4", 700, 0, "default", day2)])
    after = MetricState(example_config, Clock(day2 + 60))
    restarted = JournalTailer(after, path)
    restarted.open()
    restarted.catch_up()
    assert budget(after, "hypertool_persona_token_budget_used", period="daily") == 700
    assert budget(after, "hypertool_persona_token_budget_remaining") == 4300
    # The counters keep everything.
    assert (
        after.view().counters["hypertool_persona_tokens_used_total"][
            ("backend-engineer", "default", "gpt-4", "input")
        ]
        == 4700
    )
    restarted.stop()


def test_compaction_drops_old_snapshotted_events_only(example_config, tmp_path):
    path = tmp_path / "j.sqlite"
    now = datetime.now(UTC).timestamp()
    with Journal(path) as journal:
        old = [TokensUsed("qa", "gpt-4", 1, 0, "default", now - 90 * 86400) for _ in range(50)]
        journal.append(old)
        journal.append([TokensUsed("qa", "gpt-4", 1, 0, "default", now) for _ in range(5)])
    state = MetricState(example_config)
    tailer = JournalTailer(state, path, retention_days=40)
    tailer.open()
    tailer.catch_up()
    assert tailer.compact() == 0  # nothing is snapshotted yet: nothing may go
    tailer.snapshot()
    assert tailer.compact() == 50
    with Journal(path) as journal:
        journal.append([TokensUsed("qa", "gpt-4", 1, 0, "default", now - 90 * 86400)])
    tailer.catch_up()
    assert tailer.compact() == 0  # applied but not snapshotted: kept
    tailer.stop()

    restarted = MetricState(example_config)
    again = JournalTailer(restarted, path)
    again.open()
    again.catch_up()
    key = ("qa", "default", "gpt-4", "input")
    assert restarted.view().counters["hypertool_persona_tokens_used_total"][key] == 56
    assert again.status.lag_events == 0
    again.stop()


def test_lag_is_reported_while_behind(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as journal:
        journal.append([TokensUsed("qa", "m", 1, 0, "default", 1000.0) for _ in range(25)])
    state = MetricState()
    tailer = JournalTailer(state, path, batch=10)
    tailer.open()
    tailer.step()
    assert tailer.status.lag_events == 15
    assert tailer.status.lag_seconds > 1e9  # the events are from 1970
    tailer.catch_up()
    assert (tailer.status.lag_events, tailer.status.lag_seconds) == (0, 0.0)
    tailer.stop()
