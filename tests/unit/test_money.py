"""Dollars in the fold add up exactly, and snapshots keep them so."""

from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.events import TokensUsed
from hypertool_exporter.model.money import femto_at_least, femto_of, usd_of

CONFIG = """
pricing:
  m: {input: 0.1, output: 0.0}
budgets:
  default: {usd: 100, period: total}
"""
KEY = ("p", "default", "m")


def _state_with_ten_costs_of_a_dime() -> MetricState:
    state = MetricState(parse_config(CONFIG))
    for n in range(10):  # 1,000 input tokens at $0.1 per 1,000: $0.1 each
        state.apply(TokensUsed("p", "m", 1000, 0, "default", 1000.0 + n))
    state.apply(TokensUsed("p", "reported-model", 1, 0, "default", 1010.0, cost_usd=0.1))
    state.apply(TokensUsed("p", "reported-model", 1, 0, "default", 1011.0, cost_usd=0.2))
    return state


def test_costs_and_budget_dollars_are_exact_sums():
    state = _state_with_ten_costs_of_a_dime()
    # Ten float additions of 0.1 give 0.9999999999999999; whole femto-dollars give 1.
    assert state.view().counters[c.PERSONA_COST.name][KEY] == 1.0
    reported = state.view().counters[c.PERSONA_REPORTED_COST.name][
        ("p", "default", "reported-model", "provider")
    ]
    assert reported == usd_of(femto_of(0.1) + femto_of(0.2)) == 0.3  # not 0.30000000000000004
    assert state.view(1011.0).standing_of("p").usd_used == 1.3
    assert state.view().money[c.PERSONA_COST.name][KEY] == 10**15


def test_snapshot_keeps_exact_sums_and_restores_older_floats_never_lower():
    state = _state_with_ten_costs_of_a_dime()
    data = state.to_json()
    copy = MetricState(parse_config(CONFIG))
    copy.load_json(data)
    assert copy.view().money == state.view().money and copy.view().counters == state.view().counters
    # A snapshot written before exact sums: the floats alone.
    del data["money"]
    data["counters"][c.PERSONA_COST.name] = [(list(KEY), 0.30000000000000004)]
    old = MetricState(parse_config(CONFIG))
    old.load_json(data)
    assert old.view().money[c.PERSONA_COST.name][KEY] == femto_at_least(0.30000000000000004)
    assert old.view().counters[c.PERSONA_COST.name][KEY] >= 0.30000000000000004
    # And it goes on adding exactly from there.
    old.apply(TokensUsed("p", "m", 1000, 0, "default", 2000.0))
    assert (
        old.view().money[c.PERSONA_COST.name][KEY] == femto_at_least(0.30000000000000004) + 10**14
    )


def test_sums_past_64_bits_of_femto_dollars_survive_a_snapshot(tmp_path):
    from hypertool_exporter.journal.store import Journal

    state = MetricState(parse_config(CONFIG))
    for n in range(3):  # 10 billion tokens at $0.1 per 1,000: $1,000,000 each
        state.apply(TokensUsed("p", "m", 10**10, 0, "default", 1000.0 + n))
    assert state.view().money[c.PERSONA_COST.name][KEY] == 3 * 10**21 > 2**64
    with Journal(tmp_path / "j.db") as journal:
        journal.save_snapshot(0, state.to_json())
        saved = journal.load_snapshot()
    copy = MetricState(parse_config(CONFIG))
    copy.load_json(saved[2])
    assert copy.view().money == state.view().money
    assert copy.view().counters[c.PERSONA_COST.name][KEY] == 3_000_000.0
    assert copy.to_json()["budgets"]["p"][0][3] == str(3 * 10**21)
