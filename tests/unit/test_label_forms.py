"""Calls whose label values were seen before (``model.label_forms``):
built from the values' validated form, they record what a first call records,
their numbers are checked as a first call's are, and a value that cannot be
a key is refused by name like any other bad value."""

import math

import pytest

from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model.fields import EventError

NOW = 1_795_000_000.0

#: Each recording method with raw label values that validation changes
#: (persona names normalised, text trimmed), and its number.
CALLS = {
    "switch": lambda c, n=0: c.switch_persona("Backend Engineer", " QA ", "Review", session="s"),
    "stage": lambda c, n=1.5: c.record_workflow_stage(" Release ", "build", "QA Lead", n, True),
    "llm call": lambda c, n=1.5: c.record_llm_call("QA Lead", " gpt-4o ", n, error_type="Timeout"),
    "tool call": lambda c, n=0.25: c.record_tool_call("QA Lead", " search ", n, "HTTPError"),
    "quality score": lambda c, n=0.75: c.record_quality_score("QA Lead", "relevance", n, " ok "),
    "workflow run": lambda c, n=36.0: c.record_workflow_run(" Triage ", True, n, persona="QA"),
    "tokens with options": lambda c, n=0.002: c.record_token_usage(
        "QA Lead",
        " implement ",
        " gpt-4o ",
        600,
        250,
        cache_read_tokens=100,
        cache_write_tokens=20,
        reasoning_tokens=50,
        cost_usd=n,
        provider=" openai ",
        operation="chat",
        workflow=" Release ",
        stage="build",
    ),
    "tokens, the seed's count": lambda c, n=0: c.record_token_usage(
        persona="QA Lead", chatmode=" implement ", model="gpt-4o", tokens=850
    ),
}
#: What each call's number is.
NUMBER_FIELDS = ("duration_seconds", "score", "cost_usd")


def journalled(tmp_path):
    return PersonaMetricsCollector(journal=tmp_path / "j.sqlite", clock=lambda: NOW)


def journal_events(tmp_path):
    with Journal(tmp_path / "j.sqlite", create=False) as journal:
        events, bad = journal.events_of(journal.read_after(0))
    assert not bad
    return events


@pytest.mark.parametrize("name", CALLS)
def test_a_call_with_labels_seen_before_records_what_the_first_did(tmp_path, name):
    collector = journalled(tmp_path)
    for _ in range(3):  # the first validated whole, the others from their labels' form
        CALLS[name](collector)
    collector.close()
    events = journal_events(tmp_path)
    assert len(events) == 3
    assert events[0] == events[1] == events[2]
    assert type(events[1]) is type(events[0])


@pytest.mark.parametrize(
    "name", [name for name in CALLS if name not in ("switch", "tokens, the seed's count")]
)
@pytest.mark.parametrize("bad", [-1.0, math.nan, math.inf, "2", True, None, 10.0**10])
def test_a_bad_number_beside_labels_seen_before_is_refused_by_name(tmp_path, name, bad):
    collector = journalled(tmp_path)
    CALLS[name](collector)
    if name in ("quality score", "tokens with options") and bad is None:
        bad = -1.0  # no score (a verdict alone), no cost (priced here): not bad numbers
    with pytest.raises(EventError) as refused:
        CALLS[name](collector, bad)
    assert refused.value.field in NUMBER_FIELDS
    collector.close()
    assert len(journal_events(tmp_path)) == 1  # the first stands, nothing else


#: Token counts (input, output, cache read, cache write, reasoning) that break
#: one rule each, and the field refused.
BAD_COUNTS = [
    ((600, 250, 601, 0, 0), "cache_read_tokens"),  # more than the input
    ((600, 250, 400, 201, 0), "cache_write_tokens"),  # reads and writes past the input
    ((600, 250, 0, 0, 251), "reasoning_tokens"),  # more than the output
    ((600, 250, -1, 0, 0), "cache_read_tokens"),
    ((600, 250, 0, 100.0, 0), "cache_write_tokens"),  # not a whole number
    ((600, 250, 0, 0, True), "reasoning_tokens"),
    ((600, -250, 0, 0, 0), "output_tokens"),
    ((10**13, 250, 0, 0, 0), "input_tokens"),
]


@pytest.mark.parametrize(("counts", "field"), BAD_COUNTS)
def test_token_counts_beside_labels_seen_before_are_checked_as_a_first_calls(
    tmp_path, counts, field
):
    collector = journalled(tmp_path)
    call = lambda i, o, r, w, z: collector.record_token_usage(  # noqa: E731
        "qa", "default", "gpt-4o", i, o, cache_read_tokens=r, cache_write_tokens=w,
        reasoning_tokens=z, cost_usd=0.5, provider="openai",
    )  # fmt: skip
    call(600, 250, 100, 100, 50)
    with pytest.raises(EventError) as refused:
        call(*counts)
    assert refused.value.field == field
    collector.close()
    assert len(journal_events(tmp_path)) == 1


def test_token_options_seen_before_are_validated_where_their_values_need_it(tmp_path):
    """A cost given as a whole number is converted as a first call's is; a
    trace id and a reservation are validated each time."""
    collector = journalled(tmp_path)
    call = lambda **more: collector.record_token_usage(  # noqa: E731
        "qa", "default", "gpt-4o", 600, 250, provider="openai", **more
    )
    call(cost_usd=0.5)
    call(cost_usd=1)
    with pytest.raises(EventError) as refused:
        call(cost_usd=0.5, trace_id="not-a-trace-id")
    assert refused.value.field == "trace_id"
    with pytest.raises(EventError) as refused:
        call(cost_usd=0.5, reservation_id=["r"])
    assert refused.value.field == "reservation_id"
    with pytest.raises(EventError) as refused:
        collector.record_token_usage("qa", "default", "gpt-4o", 5, tokens=850)
    assert refused.value.field == "tokens"
    collector.close()
    costs = [event.cost_usd for event in journal_events(tmp_path)]
    assert costs == [0.5, 1.0]
    assert type(costs[1]) is float


def test_a_run_result_equal_to_a_seen_one_but_not_one_is_refused(tmp_path):
    """``1 == True``: a key seen with ``True`` must not pass ``1`` through."""
    collector = journalled(tmp_path)
    collector.record_workflow_run("triage", True, 3.0)
    for result in (1, 1.0):
        with pytest.raises(EventError) as refused:
            collector.record_workflow_run("triage", result, 3.0)
        assert refused.value.field == "result"
    collector.close()
    assert [event.result for event in journal_events(tmp_path)] == ["succeeded"]


UNHASHABLE = {
    "switch": lambda c: c.switch_persona(None, ["qa"]),
    "stage": lambda c: c.record_workflow_stage("release", {"build": 1}, "qa", 1.0),
    "llm call": lambda c: c.record_llm_call(["qa"], "gpt-4o", 1.0),
    "tool call": lambda c: c.record_tool_call("qa", ["search"], 1.0),
    "quality score": lambda c: c.record_quality_score("qa", ["relevance"], 0.5),
    "workflow run": lambda c: c.record_workflow_run(["triage"], True, 1.0),
    "tokens": lambda c: c.record_token_usage(["qa"], "default", "gpt-4o", 1, 1),
    "tokens, options": lambda c: c.record_token_usage("qa", {"m": 1}, "gpt-4o", 1, 1, tokens=None),
}
FIELDS = {
    "switch": "to_persona",
    "stage": "stage",
    "llm call": "persona",
    "tool call": "tool",
    "quality score": "evaluation",
    "workflow run": "workflow",
    "tokens": "persona",
    "tokens, options": "chatmode",
}


@pytest.mark.parametrize("journal", [False, True])
@pytest.mark.parametrize("name", UNHASHABLE)
def test_a_value_that_cannot_be_a_key_is_refused_by_name(tmp_path, name, journal):
    collector = journalled(tmp_path) if journal else PersonaMetricsCollector(clock=lambda: NOW)
    CALLS.get(name, lambda c: c.record_token_usage("qa", "default", "gpt-4o", 1, 1))(collector)
    with pytest.raises(EventError) as refused:
        UNHASHABLE[name](collector)
    assert refused.value.field == FIELDS[name]
    collector.close()


def rejected(registry):
    return registry.get_sample_value(
        "hypertool_exporter_events_rejected_total", {"reason": "invalid_field"}
    )


@pytest.mark.parametrize("gate", [1, 0, 1.0, "yes"])
def test_a_gate_that_is_not_a_verdict_is_refused_and_counted_after_a_good_stage(registry, gate):
    """``1 == True``: a stage seen with ``True`` must not pass ``1`` through,
    and its refusal is counted as any other."""
    collector = PersonaMetricsCollector(registry, clock=lambda: NOW)
    collector.record_workflow_stage("release", "build", "qa", 1.0, True)
    with pytest.raises(EventError) as refused:
        collector.record_workflow_stage("release", "build", "qa", 1.0, gate)
    assert refused.value.field == "gate"
    assert rejected(registry) == 1
