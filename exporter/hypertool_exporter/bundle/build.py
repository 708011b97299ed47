"""``hypertool-exporter bundle build``: regenerate every generated file."""

from __future__ import annotations

from pathlib import Path

from . import dashboards, docs, rules


def build_all(root: str | Path) -> list[Path]:
    """Write all generated files under the repository ``root``; returns their paths."""
    base = Path(root)
    return [docs.write_readme(base), rules.write_rules(base), *dashboards.write_dashboards(base)]


__all__ = ["build_all"]
