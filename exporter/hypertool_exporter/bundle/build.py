"""``hypertool-exporter bundle build``: regenerate every generated file."""

from __future__ import annotations

from pathlib import Path

from . import dashboards, docs, kubernetes, rules
from .config import BundleConfig


def build_all(root: str | Path, config: BundleConfig | None = None) -> list[Path]:
    """Write all generated files under the repository ``root``; returns their paths.

    ``config`` (default: the shipped one) sets the thresholds and the selector;
    the README table is written only into a README.md that has its markers
    (``bundle.docs.BEGIN`` and ``END``): your own README is left alone; so
    are the mapping tables, into docs/otlp.md.
    """
    base = Path(root)
    config = config or BundleConfig()
    readme_path = base / "README.md"
    has_table = readme_path.exists() and docs.BEGIN in readme_path.read_text(encoding="utf-8")
    readme = [docs.write_readme(base)] if has_table else []
    otlp_doc = base / "docs" / "otlp.md"
    has_tables = otlp_doc.exists() and docs.MAPPING_BEGIN in otlp_doc.read_text(encoding="utf-8")
    mapping = [docs.write_otlp_doc(base)] if has_tables else []
    return [
        *readme,
        *mapping,
        rules.write_rules(base, config),
        *dashboards.write_dashboards(base, config),
        *kubernetes.write_kubernetes(base, config),
    ]


__all__ = ["build_all"]
