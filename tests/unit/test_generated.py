"""Generated files are committed; they must match their generators."""

import json

from harness.support import REPO

from hypertool_exporter.bundle import docs
from hypertool_exporter.model import price_database, price_index


def test_readme_metric_table_is_in_sync():
    text = (REPO / "README.md").read_text()
    assert docs.render_readme(text) == text, "run `make bundle` and commit README.md"


def test_readme_test_command_is_what_ci_runs():
    assert "make test" in (REPO / "README.md").read_text()
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_otlp_mapping_tables_are_in_sync():
    text = (REPO / "docs" / "otlp.md").read_text()
    assert docs.render_otlp_doc(text) == text, "run `make bundle` and commit docs/otlp.md"


def test_the_price_index_holds_what_the_installed_genai_prices_answers():
    """Every name the index holds, priced and attributed as genai-prices
    itself answers it, for the data file whose digest it carries."""
    with open(price_index.INDEX_PATH, encoding="utf-8") as handle:
        shipped = json.load(handle)
    built = price_database.build_index()
    assert shipped == built, "run `make bundle` and commit model/price_index.json"
    assert len(built["models"]) > 500 and "gpt-4o" in built["models"]
