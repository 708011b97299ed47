"""The three Grafana dashboards, one module each, and the function that writes them.

Each module's ``dashboard(config)`` returns a ``grafana.DashboardSpec``. Rates
use ``$__rate_interval``; totals over the chosen range use ``increase(...[$__range])``.
"""

from __future__ import annotations

from pathlib import Path

from ..config import BundleConfig
from ..grafana import DashboardSpec, render_json
from . import cost, persona, workflow

#: Every dashboard, in the order they are written and linked.
DASHBOARDS = (persona.dashboard, workflow.dashboard, cost.dashboard)


def specs(config: BundleConfig | None = None) -> list[DashboardSpec]:
    """Every dashboard's spec under ``config`` (the shipped one by default)."""
    config = config or BundleConfig()
    specs = [make(config) for make in DASHBOARDS]
    for spec in specs:
        spec.selector = config.selector
    return specs


def write_dashboards(root: Path, config: BundleConfig | None = None) -> list[Path]:
    """Write ``dashboards/*.json`` under ``root``; returns their paths."""
    out = root / "dashboards"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for spec in specs(config):
        path = out / f"{spec.slug}.json"
        path.write_text(render_json(spec), encoding="utf-8")
        paths.append(path)
    return paths


__all__ = ["DASHBOARDS", "specs", "write_dashboards"]
