import random

import pytest

from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.events import (
    LLMCallFinished,
    PersonaSwitched,
    StageFinished,
    TokensUsed,
)


def hist(state, spec, key):
    return state.view().histogram(spec.name, key)


def test_switches_resolve_from_persona_per_session_and_observe_durations():
    state = MetricState()
    state.apply(PersonaSwitched("backend-engineer", "implement", None, "s1", 100.0))
    state.apply(PersonaSwitched("testing-specialist", "test", None, "s1", 145.0))
    state.apply(PersonaSwitched("devops-engineer", "deploy", None, "s2", 150.0))
    switches = state.view().counters[c.PERSONA_SWITCHES.name]
    assert switches == {
        ("none", "backend-engineer", "implement"): 1.0,
        ("backend-engineer", "testing-specialist", "test"): 1.0,
        ("none", "devops-engineer", "deploy"): 1.0,
    }
    # 45 s in backend-engineer, observed under the chat mode it was in.
    duration = hist(state, c.PERSONA_DURATION, ("backend-engineer", "implement"))
    assert duration.sum == 45.0 and duration.count == 1
    assert duration.cumulative[c.PERSONA_DURATION.buckets.index(60.0)] == 1
    assert duration.cumulative[c.PERSONA_DURATION.buckets.index(30.0)] == 0


def test_explicit_from_persona_wins():
    state = MetricState()
    state.apply(PersonaSwitched("b", "m", "a", "s", 1.0))
    assert state.view().counters[c.PERSONA_SWITCHES.name] == {("a", "b", "m"): 1.0}


def test_tokens_cost_budget_and_unpriced_models(example_config):
    state = MetricState(example_config)
    state.apply(TokensUsed("backend-engineer", "gpt-4", 600, 250, "default", 1000.0))
    state.apply(TokensUsed("backend-engineer", "my-local-model", 10, 5, "default", 1001.0))
    tokens = state.view().counters[c.PERSONA_TOKENS.name]
    assert tokens[("backend-engineer", "default", "gpt-4", "input")] == 600
    assert tokens[("backend-engineer", "default", "gpt-4", "output")] == 250
    assert (
        round(
            state.view().counters[c.PERSONA_COST.name][("backend-engineer", "default", "gpt-4")], 9
        )
        == 0.033
    )
    assert state.view().counters[c.PERSONA_UNPRICED_TOKENS.name] == {
        ("backend-engineer", "my-local-model"): 15
    }
    assert state.view(1001.0).standing_of("backend-engineer").tokens_used == 865


def test_gates_initialise_both_results_and_llm_errors_start_at_zero():
    state = MetricState()
    state.apply(StageFinished("release", "test", "t", 12.0, "passed", 1.0))
    state.apply(StageFinished("release", "test", "t", 700.0, None, 2.0))
    gates = state.view().counters[c.QUALITY_GATE.name]
    assert gates == {
        ("release", "test", "passed", "t"): 1.0,
        ("release", "test", "failed", "t"): 0.0,
    }
    stage = hist(state, c.STAGE_DURATION, ("release", "test", "t"))
    assert (
        stage.count == 2 and stage.cumulative[-1] - stage.cumulative[-2] == 1
    )  # 700 s lands in +Inf only
    state.apply(LLMCallFinished("t", "gpt-4", 0.5, None, 3.0))
    assert state.view().counters[c.LLM_ERRORS.name] == {("t", "gpt-4"): 0.0}
    state.apply(LLMCallFinished("t", "gpt-4", 0.5, "timeout", 4.0))
    assert state.view().counters[c.LLM_ERRORS.name] == {("t", "gpt-4"): 1.0}
    assert state.view().counters[c.LLM_REQUESTS.name] == {("t", "gpt-4"): 2.0}


def test_label_cap_folds_excess_values_and_counts_them():
    state = MetricState(parse_config("limits: {max_label_values: 3}\n"))
    for i in range(10):
        state.apply(TokensUsed(f"persona-{i}", "gpt-4", 1, 0, "default", 1.0))
    personas = {key[0] for key in state.view().counters[c.PERSONA_TOKENS.name]}
    assert personas == {"persona-0", "persona-1", "persona-2", c.OVERFLOW_VALUE}
    assert (
        state.view().counters[c.PERSONA_TOKENS.name][
            (c.OVERFLOW_VALUE, "default", "gpt-4", "input")
        ]
        == 7
    )
    assert state.view().label_values_folded == {"persona": 7}


def random_events(seed: int, n: int):
    rnd = random.Random(seed)
    personas = ["a", "b", "c"]
    events = []
    for i in range(n):
        kind = rnd.randrange(4)
        ts = 1000.0 + i
        if kind == 0:
            events.append(PersonaSwitched(rnd.choice(personas), "m", None, rnd.choice("xy"), ts))
        elif kind == 1:
            events.append(
                TokensUsed(
                    rnd.choice(personas), "gpt-4", rnd.randrange(100), rnd.randrange(100), "m", ts
                )
            )
        elif kind == 2:
            events.append(
                StageFinished(
                    "w",
                    rnd.choice("st"),
                    rnd.choice(personas),
                    rnd.uniform(0, 900),
                    rnd.choice(["passed", "failed", None]),
                    ts,
                )
            )
        else:
            events.append(
                LLMCallFinished(
                    rnd.choice(personas),
                    "gpt-4",
                    rnd.uniform(0, 5),
                    rnd.choice([None, "timeout"]),
                    ts,
                )
            )
    return events


def test_snapshot_round_trip_then_continue_equals_uninterrupted(example_config):
    events = random_events(1, 400)
    straight = MetricState(example_config)
    for event in events:
        straight.apply(event)
    first = MetricState(example_config)
    for event in events[:150]:
        first.apply(event)
    resumed = MetricState(example_config)
    resumed.load_json(first.to_json())
    for event in events[150:]:
        resumed.apply(event)
    assert resumed.to_json() == straight.to_json()


def test_restoring_a_snapshot_drops_the_records_waiting_in_batches(example_config):
    """A snapshot replaces the whole state, token records that wait for the
    next drain included (the journal's plain token events wait there too)."""
    saved = MetricState(example_config)
    saved.apply(TokensUsed("qa", "gpt-4", 5, 0, "default", 1_795_000_000.0))
    snapshot = saved.to_json()
    state = MetricState(example_config)
    events = [TokensUsed("qa", "gpt-4", 100, 0, "default", 1_795_000_000.0 + n) for n in range(3)]
    state.apply_all(events)  # the first folds; the other two wait in the batch
    state.load_json(snapshot)
    assert state.to_json() == snapshot


def test_a_fleet_budget_exports_its_shared_limit_and_no_per_instance_remaining():
    from hypertool_exporter.exposition.snapshot import take_snapshot

    config = parse_config(
        "budgets:\n  shared: {tokens: 5000, usd: 2.5, period: daily, scope: fleet}\n"
        "  solo: {tokens: 100, usd: 1, period: daily}\n"
        "pricing:\n  m: {input: 1.0, output: 1.0}\n"
    )
    state = MetricState(config)
    for persona in ("shared", "solo"):
        state.apply(TokensUsed(persona, "m", 40, 0, "default", state.clock()))
    rows = {f.spec.name: dict(f.rows) for f in take_snapshot(state) if f.spec.kind != "histogram"}
    assert rows[c.FLEET_BUDGET_LIMIT.name] == {("shared", "daily"): 5000}
    assert rows[c.BUDGET_LIMIT.name] == {("solo", "daily"): 100}
    assert set(rows[c.BUDGET_REMAINING.name]) == {("solo",)}
    assert rows[c.BUDGET_USED.name] == {("shared", "daily"): 40, ("solo", "daily"): 40}
    # Dollars alike: the fleet's limit, each exporter's spend, no per-instance remaining.
    assert rows[c.FLEET_COST_BUDGET_LIMIT.name] == {("shared", "daily"): 2.5}
    assert rows[c.COST_BUDGET_LIMIT.name] == {("solo", "daily"): 1.0}
    assert set(rows[c.COST_BUDGET_REMAINING.name]) == {("solo",)}
    assert rows[c.COST_BUDGET_USED.name] == {("shared", "daily"): 0.04, ("solo", "daily"): 0.04}


def test_a_budget_scope_must_be_instance_or_fleet():
    from hypertool_exporter.model.config import ConfigError

    with pytest.raises(ConfigError, match=r"budgets\.qa\.scope: must be one of instance, fleet"):
        parse_config("budgets:\n  qa: {tokens: 1, scope: team}\n")


def test_a_snapshot_copies_histograms_in_pieces_that_fit_together(example_config, monkeypatch):
    """A journal snapshot copies a histogram's bucket counts a piece per hold of
    the lock; the pieces make exactly the copy one hold would."""
    from hypertool_exporter.fold import histogram

    state = MetricState(example_config)
    for event in random_events(2, 600):
        state.apply(event)
    holds = []

    class CountingLock:
        def __enter__(self):
            holds.append(1)

        def __exit__(self, *exc):
            return False

    whole = {
        name: histogram.freeze(series) for name, series in state.handlers.series.histograms.items()
    }
    monkeypatch.setattr(histogram, "PIECE", 7)  # many pieces, the last one short
    pieces = {
        name: histogram.freeze_in_pieces(series, CountingLock())
        for name, series in state.handlers.series.histograms.items()
    }
    assert [histogram.series_to_json(f) for f in pieces.values()] == [
        histogram.series_to_json(f) for f in whole.values()
    ]
    assert pieces.keys() == whole.keys()
    cells = sum(len(f[1]) for f in whole.values())
    assert cells > 7 * 10 and len(holds) >= cells // 7  # a hold per piece


@pytest.mark.parametrize("verdict", ["passed", "failed"])
def test_a_snapshot_holding_one_result_of_a_gate_gets_the_other_at_the_next_verdict(verdict):
    """Both results exist from a gate's first verdict on; a snapshot that holds
    one of them (written by hand, or by a version that made them apart) gets
    the other at its next verdict, whichever it is."""
    snapshot = MetricState().to_json()
    snapshot["counters"][c.QUALITY_GATE.name] = [[["release", "test", "passed", "qa"], 4.0]]
    state = MetricState()
    state.load_json(snapshot)
    state.apply(StageFinished("release", "test", "qa", 1.0, verdict, 5.0))
    gates = state.view().counters[c.QUALITY_GATE.name]
    assert gates == {
        ("release", "test", "passed", "qa"): 4.0 + (verdict == "passed"),
        ("release", "test", "failed", "qa"): 0.0 + (verdict == "failed"),
    }


def test_a_snapshot_from_before_the_gate_counter_had_a_persona_keeps_its_counts():
    """The gate counter gained ``persona``: rows of an older snapshot keep their
    counts with the label empty (absent to Prometheus), so sums over the old
    labels do not change across the upgrade; new verdicts carry the persona."""
    old = MetricState()
    snapshot = old.to_json()
    snapshot["counters"][c.QUALITY_GATE.name] = [
        [["release", "test", "passed"], 4.0],
        [["release", "test", "failed"], 1.0],
        [["release", "test", "failed", "qa", "extra"], 9.0],  # not a row of any version
    ]
    state = MetricState()
    state.load_json(snapshot)
    state.apply(StageFinished("release", "test", "qa", 1.0, "failed", 5.0))
    gates = state.view().counters[c.QUALITY_GATE.name]
    assert gates == {
        ("release", "test", "passed", ""): 4.0,
        ("release", "test", "failed", ""): 1.0,
        ("release", "test", "passed", "qa"): 0.0,
        ("release", "test", "failed", "qa"): 1.0,
    }
