"""A cardinality bomb: 100,000 distinct persona names keep series and memory bounded."""

import tracemalloc

from prometheus_client import CollectorRegistry

from hypertool_exporter.fold.batches import MAX_BATCHES
from hypertool_exporter.fold.handlers import MAX_CACHED_PLANS
from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.config import parse_config

CAP = 1000


def bomb(collector: PersonaMetricsCollector, start: int, stop: int) -> None:
    for i in range(start, stop):
        collector.record_token_usage(f"persona-{i}", "default", "gpt-4", 1, 1)
        collector.record_llm_call(f"persona-{i}", "gpt-4", 0.1)
    collector.state.drain()


def test_label_cap_bounds_series_and_memory():
    collector = PersonaMetricsCollector(
        CollectorRegistry(),
        config=parse_config("budgets:\n  default: {tokens: 10, period: daily}\n"),
    )
    bomb(collector, 0, 30_000)  # past every cache's cap
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    bomb(collector, 30_000, 100_000)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert growth < 2 * 2**20, f"memory grew by {growth / 2**20:.1f} MiB for 70,000 new names"

    state = collector.state
    personas = {key[0] for key in state.view().counters[c.PERSONA_TOKENS.name]}
    assert len(personas) == CAP + 1 and c.OVERFLOW_VALUE in personas
    assert len(state.view().rows(c.LLM_DURATION.name)) == CAP + 1
    # Every folded value is counted (once per label occurrence).
    assert state.view().label_values_folded["persona"] == 2 * (100_000 - CAP)
    # The overflow series still counts every token.
    total = sum(
        v for k, v in state.view().counters[c.PERSONA_TOKENS.name].items() if k[3] == "input"
    )
    assert total == 100_000
    assert len(state.to_json()["budgets"]) <= CAP + 1
    assert len(collector.state.batches) <= MAX_BATCHES
    assert len(state.handlers.token_plans) <= MAX_CACHED_PLANS
    registry = collector.registry
    assert registry.get_sample_value(c.LABEL_VALUES_FOLDED.name, {"label": "persona"}) == 2 * (
        100_000 - CAP
    )


def test_each_event_that_carries_a_refused_value_is_counted_once():
    """``label_values_folded`` counts every event whose value was replaced,
    whether its labels' fold plan (a stage's charge, a tool's) was cached,
    the batch path added it up, or a snapshot was restored in between
    (plans are rebuilt then)."""
    from hypertool_exporter.fold.state import MetricState
    from hypertool_exporter.model.config import Config
    from hypertool_exporter.model.events import LLMCallFinished, PersonaSwitched, TokensUsed
    from hypertool_exporter.model.work import ToolCallFinished

    events = []
    for n in range(40):
        persona = f"p{n % 4}"  # the cap admits two
        events += [
            TokensUsed(persona, "gpt-4o", 10, 5, "code", 100.0 + n),
            LLMCallFinished(persona, "gpt-4o", 0.5, None, 100.0 + n),
            PersonaSwitched(persona, "code", None, "s", 100.0 + n),
            # A call charged to its stage: the cap admits two stages of four.
            TokensUsed("p0", "gpt-4o", 10, 5, "code", 100.0 + n, workflow="w", stage=f"s{n % 4}"),
            ToolCallFinished("p0", f"t{n % 4}", 0.1, None if n % 3 else "Timeout", 100.0 + n),
        ]
    whole = MetricState(Config(max_label_values=2))
    whole.apply_all(events)
    restored = MetricState(Config(max_label_values=2))
    for start in range(0, len(events), 7):
        restored.apply_all(events[start : start + 7])
        restored.load_json(restored.to_json())
    one_by_one = MetricState(Config(max_label_values=2))
    for event in events:
        one_by_one.apply(event)
    expected = {"persona": 60, "stage": 20, "tool": 20}  # half the events name a refused persona
    for state in (whole, restored, one_by_one):
        assert state.view().label_values_folded == expected
