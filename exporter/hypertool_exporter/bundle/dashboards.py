"""Grafana dashboards as code, built with grafanalib.

Three dashboards (Persona Overview, Workflow Performance, LLM Cost and
Budgets) share one ``datasource`` variable, ``job`` / ``persona`` /
``workflow`` / ``model`` variables that their queries use, ``$__rate_interval``
in every rate, a unit on every panel, stable uids and links to each other.
grafanalib builds the structure; ``extraJson`` fills in the parts of the
modern panel schema it predates (threshold steps, options).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grafanalib.core as g
from grafanalib._gen import DashboardEncoder

from ..model import catalog as c

SCHEMA_VERSION = 39
TAG = "hypertool"
DS = {"type": "prometheus", "uid": "${datasource}"}

#: Label selectors the variables add to every query.
JOB = 'job=~"$job"'
PERSONA = 'persona=~"$persona"'
WORKFLOW = 'workflow=~"$workflow"'
MODEL = 'model=~"$model"'

GREEN, YELLOW, RED = "green", "yellow", "red"


def _steps(*steps: tuple[str, float | None]) -> dict[str, Any]:
    return {"mode": "absolute", "steps": [{"color": col, "value": val} for col, val in steps]}


@dataclass
class Query:
    """One PromQL query of a panel."""

    expr: str
    legend: str = ""
    instant: bool = False
    fmt: str = "time_series"
    exemplar: bool = False


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
    defaults["thresholds"] = spec.thresholds or _steps((GREEN, None))
    if spec.min is not None:
        defaults["min"] = spec.min
    if spec.max is not None:
        defaults["max"] = spec.max
    return defaults


def _target_json(queries: list[Query]) -> list[dict[str, Any]]:
    """Targets in the current Prometheus query schema (grafanalib's carry old fields)."""
    out = []
    for index, q in enumerate(queries):
        target = {
            "datasource": DS,
            "expr": q.expr,
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


def build(spec: PanelSpec, pos: g.GridPos, panel_id: int) -> g.Panel:
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
        "targets": _target_json(spec.queries),
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
        extra["transformations"] = [
            {"id": "organize", "options": {"excludeByName": {"Time": True}}},
        ]
        if len(spec.queries) > 1:
            extra["transformations"].insert(0, {"id": "merge", "options": {}})
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


def _layout(specs: Iterable[PanelSpec]) -> list[g.Panel]:
    """Place panels left to right, wrapping at Grafana's 24 columns."""
    panels, x, y, row_height = [], 0, 0, 0
    for index, spec in enumerate(specs, start=1):
        if x + spec.width > 24:
            x, y, row_height = 0, y + row_height, 0
        panels.append(build(spec, g.GridPos(h=spec.height, w=spec.width, x=x, y=y), index))
        x += spec.width
        row_height = max(row_height, spec.height)
    return panels


def _query_variable(
    name: str, label: str, metric: str, label_name: str, selector: str = JOB
) -> g.Template:
    query = f"label_values({metric}{{{selector}}}, {label_name})"
    return g.Template(
        name=name,
        label=label,
        query=query,
        dataSource=DS,
        includeAll=True,
        multi=True,
        allValue=".*",
        default="$__all",
        refresh=2,
        sort=1,
    )


def _variables(names: list[str]) -> g.Templating:
    datasource = g.Template(
        name="datasource",
        label="Data source",
        query="prometheus",
        type="datasource",
        default="Prometheus",
    )
    job = g.Template(
        name="job",
        label="Job",
        query=f"label_values({c.BUILD_INFO.name}, job)",
        dataSource=DS,
        includeAll=True,
        multi=True,
        allValue=".+",
        default="$__all",
        refresh=2,
        sort=1,
    )
    catalogue = {
        "persona": _query_variable("persona", "Persona", c.PERSONA_TOKENS.name, "persona"),
        "workflow": _query_variable(
            "workflow", "Workflow", f"{c.STAGE_DURATION.name}_count", "workflow"
        ),
        "model": _query_variable("model", "Model", c.LLM_REQUESTS.name, "model"),
    }
    return g.Templating(list=[datasource, job, *(catalogue[n] for n in names)])


@dataclass
class DashboardSpec:
    slug: str
    title: str
    description: str
    variables: list[str]
    panels: list[PanelSpec]

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


def render(spec: DashboardSpec) -> dict[str, Any]:
    dashboard = g.Dashboard(
        title=spec.title,
        description=spec.description,
        uid=spec.uid,
        tags=[TAG],
        panels=_layout(spec.panels),
        templating=_variables(spec.variables),
        links=_links(),
        timezone="utc",
        refresh="30s",
        time=g.Time("now-6h", "now"),
        schemaVersion=SCHEMA_VERSION,
        editable=True,
        graphTooltip=1,
    ).auto_panel_ids()
    data = json.loads(json.dumps(dashboard.to_json_data(), cls=DashboardEncoder))
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


# ---------------------------------------------------------------------------
# The three dashboards. Rates use $__rate_interval; totals over the chosen
# time range use increase(...[$__range]).
# ---------------------------------------------------------------------------

SWITCHES = f'{c.PERSONA_SWITCHES.name}{{{JOB}, to_persona=~"$persona"}}'
TOKENS = f"{c.PERSONA_TOKENS.name}{{{JOB}, {PERSONA}}}"
COST = f"{c.PERSONA_COST.name}{{{JOB}, {PERSONA}}}"
RATE = "$__rate_interval"
RANGE = "$__range"


def persona_overview() -> DashboardSpec:
    budget_thresholds = _steps((RED, None), (YELLOW, 0.1), (GREEN, 0.25))
    panels = [
        PanelSpec(
            "stat",
            "Persona switches",
            "Switches per second into the selected personas.",
            [Query(f"sum(rate({SWITCHES}[{RATE}]))")],
            "ops",
            width=6,
            height=5,
        ),
        PanelSpec(
            "stat",
            "Active personas",
            "Personas that used tokens in the time range.",
            [Query(f"count(sum by (persona) (increase({TOKENS}[{RANGE}])) > 0)")],
            "short",
            width=6,
            height=5,
        ),
        PanelSpec(
            "stat",
            "Tokens used",
            "Tokens used by the selected personas in the range.",
            [Query(f"sum(increase({TOKENS}[{RANGE}]))")],
            "short",
            width=6,
            height=5,
        ),
        PanelSpec(
            "stat",
            "Events applied",
            "Events folded by the exporters per second.",
            [Query(f"sum(rate({c.EVENTS_APPLIED.name}{{{JOB}}}[{RATE}]))")],
            "ops",
            width=6,
            height=5,
        ),
        PanelSpec(
            "timeseries",
            "Switch rate by persona",
            "Switches per second into each persona.",
            [Query(f"sum by (to_persona) (rate({SWITCHES}[{RATE}]))", "{{to_persona}}")],
            "ops",
        ),
        PanelSpec(
            "table",
            "Transitions",
            "Persona switches in the range, from -> to.",
            [
                Query(
                    f"sort_desc(sum by (from_persona, to_persona) (increase({SWITCHES}[{RANGE}])))",
                    instant=True,
                    fmt="table",
                )
            ],
            "short",
        ),
        PanelSpec(
            "bargauge",
            "Time spent per persona",
            "Total time spent in each persona before switching away, in the range.",
            [
                Query(
                    f"sort_desc(sum by (persona) (increase("
                    f"{c.PERSONA_DURATION.name}_sum{{{JOB}, {PERSONA}}}[{RANGE}])))",
                    "{{persona}}",
                    instant=True,
                )
            ],
            "s",
            width=8,
        ),
        PanelSpec(
            "piechart",
            "Tokens by persona",
            "Share of tokens used in the range.",
            [Query(f"sum by (persona) (increase({TOKENS}[{RANGE}]))", "{{persona}}", instant=True)],
            "short",
            width=8,
        ),
        PanelSpec(
            "bargauge",
            "Top chat modes",
            "Chat modes entered most often in the range.",
            [
                Query(
                    f"topk(10, sum by (chatmode) (increase({SWITCHES}[{RANGE}])))",
                    "{{chatmode}}",
                    instant=True,
                )
            ],
            "short",
            width=8,
        ),
        PanelSpec(
            "bargauge",
            "Budget remaining",
            "Share of each persona's token budget left in its current period "
            "(negative when overspent). Red under 10%, yellow under 25%.",
            [
                Query(
                    f"sum by (persona) ({c.BUDGET_REMAINING.name}{{{JOB}, {PERSONA}}})\n/\n"
                    f"sum by (persona) ({c.BUDGET_LIMIT.name}{{{JOB}, {PERSONA}}})",
                    "{{persona}}",
                    instant=True,
                )
            ],
            "percentunit",
            width=12,
            thresholds=budget_thresholds,
            min=0,
            max=1,
        ),
        PanelSpec(
            "timeseries",
            "Tokens per second by persona",
            "Token throughput from the recording rule persona:...:rate5m.",
            [
                Query(
                    f"sum by (persona) (persona:{c.PERSONA_TOKENS.family}:rate5m"
                    f"{{{JOB}, {PERSONA}}})",
                    "{{persona}}",
                )
            ],
            "short",
        ),
    ]
    return DashboardSpec(
        "persona-overview",
        "Hypertool / Persona Overview",
        "Persona switches, time in each persona, token use and budgets.",
        ["persona"],
        panels,
    )


def workflow_performance() -> DashboardSpec:
    stage = f"{c.STAGE_DURATION.name}_bucket{{{JOB}, {WORKFLOW}}}"
    gates = f"{c.QUALITY_GATE.name}{{{JOB}, {WORKFLOW}}}"
    llm = f"{c.LLM_DURATION.name}_bucket{{{JOB}, {PERSONA}, {MODEL}}}"
    panels = [
        PanelSpec(
            "gauge",
            "Quality-gate pass rate",
            "Share of quality gates passed in the range. Red under 80%, yellow under 95%.",
            [
                Query(
                    f"sum(increase({c.QUALITY_GATE.name}{{{JOB}, {WORKFLOW}, "
                    f'result="passed"}}[{RANGE}]))\n/\nsum(increase({gates}[{RANGE}]))',
                    instant=True,
                )
            ],
            "percentunit",
            width=6,
            thresholds=_steps((RED, None), (YELLOW, 0.8), (GREEN, 0.95)),
            min=0,
            max=1,
        ),
        PanelSpec(
            "stat",
            "Stages finished",
            "Workflow stages finished in the range.",
            [Query(f"sum(increase({c.STAGE_DURATION.name}_count{{{JOB}, {WORKFLOW}}}[{RANGE}]))")],
            "short",
            width=6,
        ),
        PanelSpec(
            "table",
            "Failed gates",
            "Failed quality gates in the range, by stage.",
            [
                Query(
                    f"sort_desc(sum by (workflow, stage) (increase({c.QUALITY_GATE.name}"
                    f'{{{JOB}, {WORKFLOW}, result="failed"}}[{RANGE}])) > 0)',
                    instant=True,
                    fmt="table",
                )
            ],
            "short",
            width=12,
        ),
        PanelSpec(
            "heatmap",
            "Stage duration",
            "Distribution of stage durations over time.",
            [Query(f"sum by (le) (increase({stage}[{RATE}]))", "{{le}}", fmt="heatmap")],
            "s",
            width=24,
        ),
        PanelSpec(
            "timeseries",
            "Stage duration p50 / p95",
            "Per workflow stage.",
            [
                Query(
                    f"histogram_quantile(0.95, sum by (workflow, stage, le) "
                    f"(rate({stage}[{RATE}])))",
                    "p95 {{workflow}}/{{stage}}",
                ),
                Query(
                    f"histogram_quantile(0.5, sum by (workflow, stage, le) "
                    f"(rate({stage}[{RATE}])))",
                    "p50 {{workflow}}/{{stage}}",
                ),
            ],
            "s",
        ),
        PanelSpec(
            "timeseries",
            "Stage p95 (5m, recorded)",
            "From the recording rule workflow_stage:...:p95_rate5m.",
            [
                Query(
                    f"workflow_stage:{c.STAGE_DURATION.name}:p95_rate5m{{{JOB}, {WORKFLOW}}}",
                    "{{workflow}}/{{stage}}",
                )
            ],
            "s",
        ),
        PanelSpec(
            "timeseries",
            "LLM latency p95",
            "p95 latency of LLM calls by model. Exemplars link to traces.",
            [
                Query(
                    f"histogram_quantile(0.95, sum by (model, le) (rate({llm}[{RATE}])))",
                    "{{model}}",
                    exemplar=True,
                )
            ],
            "s",
        ),
        PanelSpec(
            "timeseries",
            "LLM error rate",
            "Share of LLM calls that failed.",
            [
                Query(
                    f"sum by (persona, model) (rate({c.LLM_ERRORS.name}"
                    f"{{{JOB}, {PERSONA}, {MODEL}}}[{RATE}]))\n/\n"
                    f"sum by (persona, model) (rate({c.LLM_REQUESTS.name}"
                    f"{{{JOB}, {PERSONA}, {MODEL}}}[{RATE}]))",
                    "{{persona}} / {{model}}",
                )
            ],
            "percentunit",
            min=0,
        ),
    ]
    return DashboardSpec(
        "workflow-performance",
        "Hypertool / Workflow Performance",
        "Which stage was slow, which gate failed, how the LLM calls behind them did.",
        ["workflow", "persona", "model"],
        panels,
    )


def cost_and_budgets() -> DashboardSpec:
    cost_model = f"{c.PERSONA_COST.name}{{{JOB}, {PERSONA}, {MODEL}}}"
    used = f"{c.BUDGET_USED.name}{{{JOB}, {PERSONA}}}"
    limit = f"{c.BUDGET_LIMIT.name}{{{JOB}, {PERSONA}}}"
    usage_thresholds = _steps((GREEN, None), (YELLOW, 0.75), (RED, 0.9))
    panels = [
        PanelSpec(
            "stat",
            "Cost in range",
            "US dollars spent in the selected time range.",
            [Query(f"sum(increase({cost_model}[{RANGE}]))")],
            "currencyUSD",
            width=6,
        ),
        PanelSpec(
            "stat",
            "Cost, month to date",
            "US dollars spent since the 1st of the month.",
            [Query(f"sum(increase({cost_model}[{RANGE}]))")],
            "currencyUSD",
            width=6,
            time_from="now/M",
        ),
        PanelSpec(
            "stat",
            "Cost rate",
            "Current spend in US dollars per hour.",
            [Query(f"sum(rate({cost_model}[{RATE}])) * 3600")],
            "currencyUSD",
            width=6,
        ),
        PanelSpec(
            "stat",
            "Unpriced tokens",
            "Tokens of models missing from the pricing table (counted at $0).",
            [Query(f"sum(increase({c.LLM_UNPRICED_TOKENS.name}{{{JOB}, {MODEL}}}[{RANGE}]))")],
            "short",
            width=6,
            thresholds=_steps((GREEN, None), (YELLOW, 1)),
        ),
        PanelSpec(
            "timeseries",
            "Cost trend by persona",
            "US dollars per hour.",
            [Query(f"sum by (persona) (rate({cost_model}[{RATE}])) * 3600", "{{persona}}")],
            "currencyUSD",
        ),
        PanelSpec(
            "piechart",
            "Cost by model",
            "Share of spend in the range.",
            [Query(f"sum by (model) (increase({cost_model}[{RANGE}]))", "{{model}}", instant=True)],
            "currencyUSD",
        ),
        PanelSpec(
            "timeseries",
            "Tokens by model",
            "Input and output tokens per second.",
            [
                Query(
                    f"sum by (model, token_type) (rate({c.PERSONA_TOKENS.name}"
                    f"{{{JOB}, {PERSONA}, {MODEL}}}[{RATE}]))",
                    "{{model}} {{token_type}}",
                )
            ],
            "short",
        ),
        PanelSpec(
            "bargauge",
            "Budget used",
            "Share of each persona's token budget used in its current period.",
            [
                Query(
                    f"sum by (persona, period) ({used})\n/\nsum by (persona, period) ({limit})",
                    "{{persona}} ({{period}})",
                    instant=True,
                )
            ],
            "percentunit",
            thresholds=usage_thresholds,
            min=0,
            max=1,
        ),
        PanelSpec(
            "table",
            "Budget used vs limit",
            "Tokens used and the limit, per period.",
            [
                Query(f"sum by (persona, period) ({used})", instant=True, fmt="table"),
                Query(f"sum by (persona, period) ({limit})", instant=True, fmt="table"),
            ],
            "short",
            options={"sortBy": [{"displayName": "Value #A", "desc": True}]},
        ),
        PanelSpec(
            "table",
            "Time to exhaustion",
            "At the last hour's burn rate, when each persona's budget runs out "
            "(only personas that are burning).",
            [
                Query(
                    f"sum by (persona) ({c.BUDGET_REMAINING.name}{{{JOB}, {PERSONA}}})\n/\n"
                    f"sum by (persona) (persona:{c.PERSONA_TOKENS.family}:rate1h"
                    f"{{{JOB}, {PERSONA}}}) > 0",
                    instant=True,
                    fmt="table",
                )
            ],
            "s",
        ),
        PanelSpec(
            "table",
            "Top spenders",
            "Personas by US dollars spent in the range.",
            [
                Query(
                    f"topk(10, sum by (persona) (increase({cost_model}[{RANGE}])))",
                    instant=True,
                    fmt="table",
                )
            ],
            "currencyUSD",
            width=24,
        ),
    ]
    return DashboardSpec(
        "llm-cost-budgets",
        "Hypertool / LLM Cost and Budgets",
        "Spend by persona and model, tokens, and budgets against their limits.",
        ["persona", "model"],
        panels,
    )


DASHBOARDS = (persona_overview, workflow_performance, cost_and_budgets)


def render_json(spec: DashboardSpec) -> str:
    return json.dumps(render(spec), indent=2, sort_keys=True) + "\n"


def write_dashboards(root: Path) -> list[Path]:
    out = root / "dashboards"
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for make in DASHBOARDS:
        spec = make()
        path = out / f"{spec.slug}.json"
        path.write_text(render_json(spec), encoding="utf-8")
        paths.append(path)
    return paths
