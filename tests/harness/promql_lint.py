"""Checks a PromQL expression against the catalog.

A dashboard or rule may only name metrics the exporter emits (or recording
rules we ship), and only label values the exporter can emit for labels with
a closed set of values. Used by the tests for dashboards and rules.
"""

from __future__ import annotations

import re

from hypertool_exporter.model import catalog as c

_NAME = re.compile(
    r"(?<![\w:\"'])([a-zA-Z_:][a-zA-Z0-9_:]*)(?=\s*(?:\{|\[|\)|$|\s|,|/|\*|\+|-|>|<|=))"
)
_MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!=|!~|=)\s*"([^"]*)"')
_KEYWORDS = {
    "sum",
    "min",
    "max",
    "avg",
    "count",
    "stddev",
    "stdvar",
    "topk",
    "bottomk",
    "quantile",
    "count_values",
    "group",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "and",
    "or",
    "unless",
    "offset",
    "bool",
    "rate",
    "irate",
    "increase",
    "delta",
    "idelta",
    "deriv",
    "predict_linear",
    "histogram_quantile",
    "sum_over_time",
    "avg_over_time",
    "max_over_time",
    "min_over_time",
    "count_over_time",
    "last_over_time",
    "absent",
    "absent_over_time",
    "clamp_min",
    "clamp_max",
    "clamp",
    "abs",
    "ceil",
    "floor",
    "round",
    "time",
    "timestamp",
    "vector",
    "scalar",
    "label_replace",
    "label_join",
    "sort",
    "sort_desc",
    "changes",
    "resets",
    "le",
    "inf",
    "nan",
    "Inf",
    "NaN",
}
#: Series that Prometheus itself provides.
_PROMETHEUS_SERIES = {"up", "ALERTS", "ALERTS_FOR_STATE", "scrape_duration_seconds"}


def _all_sample_names() -> set[str]:
    names = set()
    for spec in c.CATALOG:
        names.update(spec.sample_names())
    return names


def _closed_values() -> dict[str, set[str]]:
    closed: dict[str, set[str]] = {}
    for spec in c.CATALOG:
        for label, values in spec.closed_values.items():
            closed.setdefault(label, set()).update(values)
    return closed


def check_expr(expr: str, recorded: set[str], variables: set[str] = frozenset()) -> list[str]:
    """Problems with ``expr``: unknown metrics, unknown label values. Empty when fine.

    ``recorded`` are recording-rule names that may be queried; ``variables``
    are Grafana variables (``$name``) allowed as label values.
    """
    problems = []
    stripped = re.sub(r"\{[^}]*\}", "{}", expr)  # names only outside matchers
    stripped = re.sub(r"\[[^\]]*\]", "[]", stripped)
    stripped = re.sub(r'"[^"]*"', '""', stripped)
    samples = _all_sample_names()
    labels_in_use = {label for spec in c.CATALOG for label in spec.labels}
    for name in _NAME.findall(stripped):
        if name in _KEYWORDS or name in _PROMETHEUS_SERIES or name.startswith("$"):
            continue
        if name in labels_in_use or name in ("job", "instance", "alertname", "alertstate"):
            continue
        if name in samples:  # ours, the gen_ai_* convention metrics included
            continue
        if ":" in name:
            if name not in recorded:
                problems.append(f"unknown recording rule {name}")
        elif name.startswith(c.PREFIX):
            if name not in samples:
                problems.append(f"unknown metric {name}")
        elif not re.fullmatch(r"[0-9.e+-]+", name):
            problems.append(f"unknown name {name}")
    closed = _closed_values()
    for label, op, value in _MATCHER.findall(expr):
        if label not in closed or op not in ("=", "=~"):
            continue
        if value.startswith("$") and value.lstrip("$").strip("{}") in variables:
            continue
        options = value.split("|") if op == "=~" else [value]
        for option in options:
            if option not in closed[label] and option != ".*":
                problems.append(f'{label}="{option}" is never emitted')
    return problems
