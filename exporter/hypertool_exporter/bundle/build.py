"""``hypertool-exporter bundle build``: regenerate every generated file."""

from __future__ import annotations

from pathlib import Path

from . import dashboards, docs, rules
from .config import BundleConfig


def build_all(root: str | Path, config: BundleConfig | None = None) -> list[Path]:
    """Write all generated files under the repository ``root``; returns their paths.

    ``config`` (default: the shipped one) sets the thresholds and the selector;
    the README table is written only where a README.md is.
    """
    base = Path(root)
    config = config or BundleConfig()
    readme = [docs.write_readme(base)] if (base / "README.md").exists() else []
    return [
        *readme,
        rules.write_rules(base, config),
        *dashboards.write_dashboards(base, config),
    ]


__all__ = ["build_all"]
