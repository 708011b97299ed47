"""Generated files are committed; they must match their generators."""

from harness.support import REPO

from hypertool_exporter.bundle import docs


def test_readme_metric_table_is_in_sync():
    text = (REPO / "README.md").read_text()
    assert docs.render_readme(text) == text, "run `make bundle` and commit README.md"


def test_readme_test_command_is_what_ci_runs():
    assert "make test" in (REPO / "README.md").read_text()
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_otlp_mapping_tables_are_in_sync():
    text = (REPO / "docs" / "otlp.md").read_text()
    assert docs.render_otlp_doc(text) == text, "run `make bundle` and commit docs/otlp.md"
