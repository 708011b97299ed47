from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypertool_exporter.model.budgets import (
    KEPT_PERIODS,
    Budget,
    BudgetBook,
    period_end,
    period_start,
)
from hypertool_exporter.model.money import femto_at_least, femto_of


def ts(*args) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("moment", "period", "start", "end"),
    [
        (ts(2026, 11, 22, 15, 30), "daily", ts(2026, 11, 22), ts(2026, 11, 23)),
        (ts(2026, 11, 22, 15, 30), "weekly", ts(2026, 11, 16), ts(2026, 11, 23)),  # Sunday
        (ts(2026, 11, 23, 0, 0), "weekly", ts(2026, 11, 23), ts(2026, 11, 30)),  # Monday 00:00
        (ts(2026, 12, 31, 23, 59), "monthly", ts(2026, 12, 1), ts(2027, 1, 1)),
        (ts(2028, 2, 10), "monthly", ts(2028, 2, 1), ts(2028, 3, 1)),  # leap year
    ],
)
def test_periods_follow_the_utc_calendar(moment, period, start, end):
    assert period_start(moment, period) == start
    assert period_end(moment, period) == end


def test_total_never_resets():
    assert period_start(ts(2026, 1, 1), "total") == 0.0
    assert period_end(ts(2026, 1, 1), "total") is None


def test_unknown_period_is_named():
    with pytest.raises(ValueError, match=r"period: .*'hourly'"):
        period_start(0, "hourly")


def test_usage_rolls_over_and_remaining_goes_negative():
    book = BudgetBook({"backend-engineer": Budget("daily", tokens=5000)})
    day1 = ts(2026, 11, 22, 10)
    book.charge("backend-engineer", day1, 4000, 10**14)
    book.charge("backend-engineer", day1 + 60, 2000, 10**14)
    budget, usage = book.snapshot_at("backend-engineer", day1 + 120)
    assert usage.tokens == 6000 and budget.tokens - usage.tokens == -1000
    # Next day, with no event in between: a scrape already sees a fresh period.
    _, usage = book.snapshot_at("backend-engineer", ts(2026, 11, 23, 0, 0, 1))
    assert usage.tokens == 0
    # A late event from the previous day does not charge the new period.
    book.charge("backend-engineer", ts(2026, 11, 23, 1), 100, 0)
    book.charge("backend-engineer", day1, 999, 0)
    _, usage = book.snapshot_at("backend-engineer", ts(2026, 11, 23, 2))
    assert usage.tokens == 100


def test_default_budget_covers_unnamed_personas_and_json_round_trip():
    book = BudgetBook({"default": Budget("monthly", tokens=10)})
    book.charge("new-persona", ts(2026, 11, 2), 3, 0)
    assert book.personas() == ["new-persona"]
    copy = BudgetBook(book.budgets)
    copy.load_json(book.to_json())
    assert copy.snapshot_at("new-persona", ts(2026, 11, 3))[1].tokens == 3
    assert BudgetBook({}).snapshot_at("anyone", 0) is None


def test_dollars_add_up_exactly_and_older_snapshots_restore_no_lower():
    book = BudgetBook({"default": Budget("monthly", usd=1.0)})
    for _ in range(10):
        book.charge("p", ts(2026, 11, 2), 1, femto_of(0.1))
    now = ts(2026, 11, 3)
    assert book.standing_of("p", now).usd_used == 1.0  # ten float additions give 0.9999999999999999
    # A snapshot written before exact sums: [start, tokens, usd as a float].
    copy = BudgetBook(book.budgets)
    copy.load_json({"p": [ts(2026, 11, 1), 10, 0.30000000000000004]})
    assert copy.standing_of("p", now).usd_used >= 0.30000000000000004
    assert copy.to_json()["p"][0][3] == str(femto_at_least(0.30000000000000004))
    copy.load_json(book.to_json())
    assert copy.to_json()["p"][0][3] == str(10**15)


charges = st.lists(
    st.tuples(st.integers(0, 9), st.integers(0, 86_399), st.integers(0, 500)), max_size=40
)


@settings(max_examples=200, deadline=None)
@given(charged=charges, order=st.randoms(use_true_random=False))
def test_the_book_is_the_same_in_any_order_and_keeps_the_latest_periods(charged, order):
    """Each charge goes to its own day; the latest ``KEPT_PERIODS`` days are
    kept with every charge stamped in them, whatever order they came in."""
    day0 = ts(2026, 11, 2)
    stamped = [(day0 + day * 86400 + second, tokens) for day, second, tokens in charged]
    shuffled = list(stamped)
    order.shuffle(shuffled)
    books = []
    for sequence in (stamped, shuffled):
        book = BudgetBook({"p": Budget("daily", tokens=100)})
        for when, tokens in sequence:
            book.charge("p", when, tokens, 0)
        books.append(book.to_json())
    assert books[0] == books[1]
    days = sorted({int((when - day0) // 86400) for when, _ in stamped}, reverse=True)
    kept = days[:KEPT_PERIODS]
    expected = [
        [day0 + day * 86400, sum(t for w, t in stamped if int((w - day0) // 86400) == day)]
        for day in kept
    ]
    assert [[start, tokens] for start, tokens, *_ in books[0].get("p", [])] == expected
