"""The panel toolkit the dashboards are written with, on top of grafanalib.

A dashboard is a ``DashboardSpec`` of ``PanelSpec``s; ``render`` turns it into
Grafana's JSON model: one ``datasource`` variable, ``job`` / ``persona`` /
``workflow`` / ``model`` variables that queries use, a unit on every panel,
a stable uid and links between the dashboards. grafanalib builds the
structure; ``extraJson`` fills in the parts of the modern panel schema it
predates (threshold steps, options), and ``_clean`` drops the keys it emits
for old Grafana versions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import grafanalib.core as g

from .variables import DS, JOB, variables, with_selector

SCHEMA_VERSION = 39
TAG = "hypertool"

#: Label selectors the variables add to every query.
PERSONA = 'persona=~"$persona"'
WORKFLOW = 'workflow=~"$workflow"'
MODEL = 'model=~"$model"'

GREEN, YELLOW, RED = "green", "yellow", "red"


def steps(*steps: tuple[str, float | None]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"color": col, "value": val} for col, val in steps]}


@dataclass
class Query:
    """One PromQL query of a panel."""

    expr: str
    legend: str = ""
    instant: bool = False
    fmt: str = "time_series"
    exemplar: bool = False
    #: In a table: the header of this query's value column ("" keeps
    #: Grafana's "Value" / "Value #A"), its unit (default: the panel's), or
    #: ``None`` to hide it (an info series, whose value is always 1).
    column: str | None = ""
    column_unit: str = ""


@dataclass
class PanelSpec:
    """What a panel shows; ``build`` turns it into a grafanalib panel."""

    kind: str
    title: str
    description: str
    queries: list[Query]
    unit: str
    width: int = 12
    height: int = 8
    thresholds: dict[str, Any] | None = None
    min: float | None = None
    max: float | None = None
    options: dict[str, Any] = field(default_factory=dict)
    time_from: str | None = None


def _field_defaults(spec: PanelSpec) -> dict[str, Any]:
    defaults: dict[str, Any] = {"unit": spec.unit}
    defaults["thresholds"] = spec.thresholds or steps((GREEN, None))
    if spec.min is not None:
        defaults["min"] = spec.min
    if spec.max is not None:
        defaults["max"] = spec.max
    return defaults


def _target_json(queries: list[Query], selector: str = "") -> list[dict[str, Any]]:
    """Targets in the current Prometheus query schema (grafanalib's carry old fields)."""
    out = []
    for index, q in enumerate(queries):
        target = {
            "datasource": DS,
            "expr": with_selector(q.expr, selector),
            "legendFormat": q.legend or "__auto",
            "refId": chr(ord("A") + index),
            "range": not q.instant,
            "instant": q.instant,
            "format": q.fmt,
            "editorMode": "code",
        }
        if q.exemplar:
            target["exemplar"] = True
        out.append(target)
    return out


def _table_transformations(queries: list[Query]) -> list[dict[str, Any]]:
    """A table's queries merged into one row per label set (when there are
    several), the time column hidden, and each value column named (or
    hidden) as its query says: never a "Value #A" header."""
    several = len(queries) > 1
    excluded: dict[str, bool] = {"Time": True}
    renamed: dict[str, str] = {}
    for index, q in enumerate(queries):
        value = f"Value #{chr(ord('A') + index)}" if several else "Value"
        if q.column is None:
            excluded[value] = True
        elif q.column:
            renamed[value] = q.column
    organize = (
        {"excludeByName": excluded, "renameByName": renamed}
        if renamed
        else {"excludeByName": excluded}
    )
    merge = [{"id": "merge", "options": {}}] if several else []
    return [*merge, {"id": "organize", "options": organize}]


def build(spec: PanelSpec, pos: g.GridPos, panel_id: int, selector: str = "") -> g.Panel:
    """A grafanalib panel of the spec's kind, patched to the modern schema."""
    common = {
        "title": spec.title,
        "description": spec.description,
        "dataSource": DS,
        # Targets come from _target_json (extraJson): grafanalib's Target
        # carries fields of old Grafana versions.
        "targets": [],
        "gridPos": pos,
        "id": panel_id,
        "timeFrom": spec.time_from,
    }
    extra: dict[str, Any] = {
        "fieldConfig": {"defaults": _field_defaults(spec), "overrides": []},
        "targets": _target_json(spec.queries, selector),
    }
    if spec.options:
        extra["options"] = spec.options
    if spec.kind == "timeseries":
        panel = g.TimeSeries(
            unit=spec.unit,
            legendDisplayMode="table",
            legendPlacement="right",
            tooltipMode="multi",
            **common,
        )
        extra["fieldConfig"]["defaults"]["custom"] = {"fillOpacity": 10, "showPoints": "never"}
    elif spec.kind == "stat":
        panel = g.Stat(format=spec.unit, **common)
        extra["options"] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "area",
            "textMode": "auto",
            **spec.options,
        }
    elif spec.kind == "gauge":
        panel = g.GaugePanel(**common)
        extra["options"] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "showThresholdMarkers": True,
            "showThresholdLabels": False,
        }
    elif spec.kind == "bargauge":
        panel = g.BarGauge(**common)
        extra["options"] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "orientation": "horizontal",
            "displayMode": "gradient",
            "showUnfilled": True,
            **spec.options,
        }
    elif spec.kind == "piechart":
        panel = g.PieChartv2(unit=spec.unit, **common)
        extra["options"] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "pieType": "donut",
            "legend": {
                "displayMode": "table",
                "placement": "right",
                "values": ["value", "percent"],
            },
        }
    elif spec.kind == "table":
        panel = g.Table(**common)
        extra["options"] = {"showHeader": True, **spec.options}
        extra["transformations"] = _table_transformations(spec.queries)
        extra["fieldConfig"]["overrides"] = [
            {
                "matcher": {"id": "byName", "options": q.column},
                "properties": [{"id": "unit", "value": q.column_unit}],
            }
            for q in spec.queries
            if q.column and q.column_unit
        ]
    elif spec.kind == "heatmap":
        panel = g.Heatmap(**common)
        extra["type"] = "heatmap"
        extra["options"] = {
            "calculate": False,
            "yAxis": {"unit": spec.unit},
            "cellGap": 1,
            "color": {"mode": "scheme", "scheme": "Oranges", "steps": 64},
            "tooltip": {"mode": "single", "yHistogram": True},
            "exemplars": {"color": "rgba(255,0,255,0.7)"},
        }
    else:
        raise ValueError(f"unknown panel kind {spec.kind!r}")
    panel.extraJson = extra
    return panel


def _layout(specs: Iterable[PanelSpec], selector: str = "") -> list[g.Panel]:
    """Place panels left to right, wrapping at Grafana's 24 columns."""
    panels, x, y, row_height = [], 0, 0, 0
    for index, spec in enumerate(specs, start=1):
        if x + spec.width > 24:
            x, y, row_height = 0, y + row_height, 0
        pos = g.GridPos(h=spec.height, w=spec.width, x=x, y=y)
        panels.append(build(spec, pos, index, selector))
        x += spec.width
        row_height = max(row_height, spec.height)
    return panels


@dataclass
class DashboardSpec:
    slug: str
    title: str
    description: str
    variables: list[str]
    panels: list[PanelSpec]
    #: The bundle config's selector, beside every query's ``$job`` matcher.
    selector: str = ""

    @property
    def uid(self) -> str:
        """Stable and readable: derived from the file name, never reused."""
        return f"hypertool-{self.slug}"


def _links() -> list[g.DashboardLink]:
    return [
        g.DashboardLink(
            title="Hypertool",
            tags=[TAG],
            asDropdown=False,
            includeVars=True,
            keepTime=True,
            type="dashboards",
        )
    ]


#: Keys of the current panel schema; grafanalib also emits keys for old
#: Grafana versions (graph-era heatmap options, gauge fieldOptions), dropped here.
_PANEL_KEYS = {
    "datasource",
    "description",
    "fieldConfig",
    "gridPos",
    "id",
    "links",
    "maxDataPoints",
    "options",
    "targets",
    "title",
    "transparent",
    "transformations",
    "type",
    "timeFrom",
    "interval",
}
_VARIABLE_KEYS = {
    "name",
    "label",
    "type",
    "query",
    "datasource",
    "current",
    "options",
    "includeAll",
    "multi",
    "allValue",
    "refresh",
    "sort",
    "hide",
    "regex",
    "definition",
}
_DEFAULTS_KEYS = {"unit", "thresholds", "min", "max", "custom", "color", "mappings", "decimals"}


def _clean(panel: dict[str, Any]) -> None:
    """Keep only the current panel schema's keys, without nulls."""
    for key in [k for k, v in panel.items() if k not in _PANEL_KEYS or v is None]:
        del panel[key]
    field_config = panel["fieldConfig"]
    for key in [k for k in field_config if k not in ("defaults", "overrides")]:
        del field_config[key]
    defaults = field_config["defaults"]
    for key in [k for k, v in defaults.items() if k not in _DEFAULTS_KEYS or v is None]:
        del defaults[key]
    if panel["type"] == "bargauge":
        for key in ("fieldOptions", "showThresholdLabels", "showThresholdMarkers"):
            panel["options"].pop(key, None)


def _to_json_data(obj: Any) -> Any:
    """JSON form of a nested grafanalib object (each has a public ``to_json_data``)."""
    return obj.to_json_data()


def render(spec: DashboardSpec) -> dict[str, Any]:
    """Grafana's JSON model of a dashboard, in the current schema."""
    dashboard = g.Dashboard(
        title=spec.title,
        description=spec.description,
        uid=spec.uid,
        tags=[TAG],
        panels=_layout(spec.panels, spec.selector),
        templating=variables(spec.variables, spec.selector),
        links=_links(),
        timezone="utc",
        refresh="30s",
        time=g.Time("now-6h", "now"),
        schemaVersion=SCHEMA_VERSION,
        editable=True,
        graphTooltip=1,
    ).auto_panel_ids()
    data: dict[str, Any] = json.loads(json.dumps(dashboard.to_json_data(), default=_to_json_data))
    data["schemaVersion"] = SCHEMA_VERSION
    for key in ("rows", "style", "hideControls", "sharedCrosshair", "gnetId", "id"):
        data.pop(key, None)
    for panel in data["panels"]:
        _clean(panel)
    for variable in data["templating"]["list"]:
        for key in [k for k, v in variable.items() if k not in _VARIABLE_KEYS or v is None]:
            del variable[key]
        variable["current"].pop("tags", None)
    return data


RATE = "$__rate_interval"
RANGE = "$__range"


def render_json(spec: DashboardSpec) -> str:
    """The dashboard file's text: sorted keys, so regeneration is byte-stable."""
    return json.dumps(render(spec), indent=2, sort_keys=True) + "\n"


__all__ = [
    "DS",
    "GREEN",
    "JOB",
    "MODEL",
    "PERSONA",
    "RANGE",
    "RATE",
    "RED",
    "SCHEMA_VERSION",
    "TAG",
    "WORKFLOW",
    "YELLOW",
    "DashboardSpec",
    "PanelSpec",
    "Query",
    "build",
    "render",
    "render_json",
    "steps",
    "with_selector",
]
