import pytest

from hypertool_exporter.model.pricing import Price, PriceTable


def test_example_cost():
    table = PriceTable.with_overrides({"gpt-4": Price(0.03, 0.06)})
    assert table.cost("gpt-4", 600, 250) == pytest.approx(0.033)


def test_dated_snapshots_match_their_base_model_but_not_a_longer_name():
    table = PriceTable()
    assert table.lookup("gpt-4o-2024-08-06") == table.lookup("gpt-4o")
    assert table.lookup("gpt-4o-mini-2024-07-18") == table.lookup("gpt-4o-mini")
    assert table.lookup("gpt-4o") != table.lookup("gpt-4")
    assert table.lookup("gpt-4-turbo-preview") == table.lookup("gpt-4-turbo")


def test_unknown_model_has_no_price():
    assert PriceTable().cost("my-local-model", 10, 10) is None


def test_overrides_replace_defaults():
    table = PriceTable.with_overrides({"gpt-4o": Price(1.0, 2.0)})
    assert table.cost("gpt-4o", 1000, 1000) == 3.0
