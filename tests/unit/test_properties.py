"""Property tests: validation never crashes, the fold is order-independent for
counters, and budget arithmetic is exact."""

import json
import math
import random
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.events import (
    EVENT_CLASSES,
    LLMCallFinished,
    StageFinished,
    TokensUsed,
    event_to_dict,
    parse_event,
)
from hypertool_exporter.model.fields import EventError

CONFIG = parse_config("""
budgets:
  default: {tokens: 100000, usd: 5, period: daily}
  fixed: {tokens: 1000, period: total}
""")
DAY = datetime(2026, 11, 22, tzinfo=UTC).timestamp()

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=6,
)
field_names = st.sampled_from(
    sorted({f for cls in EVENT_CLASSES.values() for f in cls._fields} | {"bogus"})
)
raw_events = st.fixed_dictionaries(
    {"type": st.sampled_from([*EVENT_CLASSES, "nonsense", None])},
    optional={"persona": json_values, "model": json_values, "input_tokens": json_values},
).flatmap(
    lambda base: st.dictionaries(field_names, json_values, max_size=6).map(
        lambda extra: {**extra, **base}
    )
)


@settings(max_examples=400, deadline=None)
@given(raw=raw_events)
def test_validation_accepts_or_names_a_field_never_crashes(raw):
    try:
        event = parse_event(raw)
    except EventError as exc:
        assert (
            exc.field in raw
            or exc.field in ("type", "event")
            or exc.field in {f for cls in EVENT_CLASSES.values() for f in cls._fields}
        )
        assert str(exc).startswith(f"{exc.field}: ")
        return
    # Whatever is accepted round-trips through its JSON form.
    assert parse_event(json.loads(json.dumps(event_to_dict(event)))) == event


labels = st.sampled_from(["backend-engineer", "qa", "fixed", "devops"])
counter_events = st.one_of(
    st.builds(
        TokensUsed,
        labels,
        st.sampled_from(["gpt-4", "gpt-4o", "local"]),
        st.integers(0, 5000),
        st.integers(0, 5000),
        st.sampled_from(["a", "b"]),
        st.floats(DAY, DAY + 86_399),
    ),
    st.builds(
        StageFinished,
        st.just("wf"),
        st.sampled_from(["s1", "s2"]),
        labels,
        st.floats(0, 900),
        st.sampled_from([None, "passed", "failed"]),
        st.floats(DAY, DAY + 86_399),
    ),
    st.builds(
        LLMCallFinished,
        labels,
        st.just("gpt-4"),
        st.floats(0, 60),
        st.sampled_from([None, "timeout"]),
        st.floats(DAY, DAY + 86_399),
    ),
)


def folded(events):
    state = MetricState(CONFIG, clock=lambda: DAY + 86_399.5)
    for event in events:
        state.apply(event)
    data = state.to_json()
    data.pop("sessions")
    return data


def close(a, b) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


@settings(max_examples=100, deadline=None)
@given(events=st.lists(counter_events, max_size=40), seed=st.integers())
def test_counter_fold_does_not_depend_on_order(events, seed):
    shuffled = list(events)
    random.Random(seed).shuffle(shuffled)
    a, b = folded(events), folded(shuffled)
    for name in a["counters"]:
        # Same series with the same values (float sums may differ in the last bit).
        assert close(sorted(a["counters"][name]), sorted(b["counters"][name])), name
    for name in a["histograms"]:
        assert close(sorted(a["histograms"][name]), sorted(b["histograms"][name])), name
    assert close(a["budgets"], b["budgets"])


@settings(max_examples=100, deadline=None)
@given(
    spends=st.lists(st.tuples(labels, st.integers(0, 50_000), st.integers(0, 50_000)), max_size=30)
)
def test_budget_remaining_is_limit_minus_spend_never_clamped(spends):
    state = MetricState(CONFIG, clock=lambda: DAY + 3600)
    for persona, inp, out in spends:
        state.apply(TokensUsed(persona, "gpt-4", inp, out, "default", DAY + 60))
    for persona in {p for p, _, _ in spends}:
        [(budget, usage)] = [(b, u) for p, b, u in state.view().budgets if p == persona]
        spent = sum(i + o for p, i, o in spends if p == persona)
        assert usage.tokens == spent
        limit = 1000 if persona == "fixed" else 100_000
        assert budget.tokens - usage.tokens == limit - spent  # may be negative
