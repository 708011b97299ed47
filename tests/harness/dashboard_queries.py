"""Dashboard queries as Grafana would send them, for the tests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

from harness.support import REPO

DASHBOARD_FILES = sorted((REPO / "dashboards").glob("*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def panel_queries(dashboard: dict) -> Iterator[tuple[dict, dict]]:
    """(panel, target) for every query of every panel."""
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            yield panel, target


def substitute(expr: str, dashboard: dict, rate_interval: str, range_: str) -> str:
    """Variables replaced as Grafana does with "All" selected (the allValue regex)."""
    values = {"__rate_interval": rate_interval, "__range": range_}
    for variable in dashboard["templating"]["list"]:
        if variable["type"] == "query":
            values[variable["name"]] = variable.get("allValue") or ".*"

    def replace(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        return values[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, expr)
