"""Generated dashboards: in sync, linted like the mixins do, checked against the catalog
and parsed by Grafana's own published models (grafana-foundation-sdk)."""

import re

import pytest
from grafana_foundation_sdk.cog import plugins
from grafana_foundation_sdk.models import dashboard as sdk
from harness import promql_lint as lint
from harness.dashboard_queries import DASHBOARD_FILES, load, panel_queries

from hypertool_exporter.bundle import dashboards, rules
from hypertool_exporter.bundle.config import BundleConfig
from hypertool_exporter.bundle.grafana import render_json

MODERN_TYPES = {"timeseries", "stat", "gauge", "bargauge", "piechart", "heatmap", "table"}
RECORDED = {
    rule["record"]
    for group in rules.rules_document(BundleConfig())["groups"]
    for rule in group["rules"]
    if "record" in rule
}
DASHES = {path.name: load(path) for path in DASHBOARD_FILES}


def test_three_dashboards_are_committed_and_in_sync():
    specs = dashboards.specs()
    assert sorted(DASHES) == sorted(f"{spec.slug}.json" for spec in specs)
    for spec in specs:
        committed = (DASHBOARD_FILES[0].parent / f"{spec.slug}.json").read_text()
        assert committed == render_json(spec), "run `make bundle` and commit"


def test_dashboard_colours_change_where_the_alerts_fire():
    config = BundleConfig(budget_nearly_exhausted_ratio=0.2, gate_failure_ratio=0.3)
    panels = {p.title: p for spec in dashboards.specs(config) for p in spec.panels}
    remaining = panels["Budget remaining"].thresholds["steps"]
    assert [s["value"] for s in remaining] == [None, 0.2, config.budget_low_ratio]
    gate = panels["Quality-gate pass rate"].thresholds["steps"]
    assert gate[1]["value"] == pytest.approx(0.7)


def test_uids_and_titles_are_stable_and_unique():
    uids = [d["uid"] for d in DASHES.values()]
    titles = [d["title"] for d in DASHES.values()]
    assert len(set(uids)) == len(uids) and len(set(titles)) == len(titles)
    for name, dash in DASHES.items():
        assert dash["uid"] == "hypertool-" + name.removesuffix(".json")
        assert len(dash["uid"]) <= 40


@pytest.mark.parametrize("name", sorted(DASHES))
def test_dashboard_follows_the_linter_rules(name):
    dash = DASHES[name]
    assert dash["schemaVersion"] >= 39
    assert "hypertool" in dash["tags"]
    assert any(
        link["type"] == "dashboards" and "hypertool" in link["tags"] for link in dash["links"]
    )
    variables = dash["templating"]["list"]
    datasource_vars = [v for v in variables if v["type"] == "datasource"]
    assert len(datasource_vars) == 1 and datasource_vars[0]["name"] == "datasource"
    exprs = []
    for panel, target in panel_queries(dash):
        assert panel["type"] in MODERN_TYPES, panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        assert target["datasource"]["uid"] == "${datasource}"
        expr = target["expr"]
        exprs.append(expr)
        for fn, window in re.findall(r"\b(rate|irate|increase)\([^\[]*\[([^\]]+)\]", expr):
            allowed = {"$__rate_interval"} if fn != "increase" else {"$__rate_interval", "$__range"}
            assert window in allowed, (panel["title"], expr)
    for variable in variables:
        if variable["type"] == "query":
            assert variable["datasource"]["uid"] == "${datasource}"
            assert any(f"${variable['name']}" in e for e in exprs), (
                f"variable {variable['name']} is used by no panel"
            )
    for panel in dash["panels"]:
        assert panel["fieldConfig"]["defaults"].get("unit"), f"{panel['title']} has no unit"
        assert panel.get("description"), panel["title"]


@pytest.mark.parametrize("name", sorted(DASHES))
def test_panels_fit_the_grid_without_overlap(name):
    cells = set()
    for panel in DASHES[name]["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, panel["title"]
                cells.add((x, y))


@pytest.mark.parametrize("name", sorted(DASHES))
def test_queries_name_only_what_the_exporter_emits(name):
    dash = DASHES[name]
    names = {v["name"] for v in dash["templating"]["list"]}
    for panel, target in panel_queries(dash):
        assert lint.check_expr(target["expr"], RECORDED, names) == [], panel["title"]
    for variable in dash["templating"]["list"]:
        if variable["type"] == "query":
            inner = re.fullmatch(r"label_values\((.+), (\w+)\)", variable["query"])
            assert inner, variable["query"]
            assert lint.check_expr(inner.group(1), RECORDED, names) == []


@pytest.mark.parametrize("name", sorted(DASHES))
def test_grafana_foundation_sdk_parses_every_panel(name):
    """An independent check: Grafana's published Python models read the dashboard,
    each panel's options into the typed options of its own panel plugin."""
    plugins.register_default_plugins()
    dash = DASHES[name]
    model = sdk.Dashboard.from_json(dash)
    assert model.uid == dash["uid"] and model.schema_version == dash["schemaVersion"]
    assert len(model.panels) == len(dash["panels"])
    for parsed, raw in zip(model.panels, dash["panels"], strict=True):
        assert isinstance(parsed, sdk.Panel), raw["title"]
        assert parsed.type_val == raw["type"]
        module = type(parsed.options).__module__.rsplit(".", 1)[-1]
        assert module == raw["type"], (raw["title"], type(parsed.options))
        assert parsed.field_config.defaults.unit == raw["fieldConfig"]["defaults"]["unit"]
        assert [t.expr for t in parsed.targets] == [t["expr"] for t in raw["targets"]]
    variables = {v.name: v for v in model.templating.list_val}
    assert variables["datasource"].type_val == "datasource"


@pytest.mark.parametrize("name", sorted(DASHES))
def test_every_table_column_has_a_name_people_read(name):
    """Grafana calls a query's value column "Value", or "Value #A" once
    several queries are merged: each table names (or hides) every one."""
    for panel in DASHES[name]["panels"]:
        if panel["type"] != "table":
            continue
        several = len(panel["targets"]) > 1
        [organize] = [t for t in panel["transformations"] if t["id"] == "organize"]
        named = organize["options"].get("renameByName", {})
        hidden = organize["options"]["excludeByName"]
        for target in panel["targets"]:
            value = f"Value #{target['refId']}" if several else "Value"
            assert value in named or value in hidden, (panel["title"], value)
        if several:
            assert panel["transformations"][0]["id"] == "merge", panel["title"]
        for sort in panel["options"].get("sortBy", []):
            assert sort["displayName"] in named.values(), (panel["title"], sort)


def test_price_source_shows_its_labels_and_a_share_as_percent():
    panels = DASHES["llm-cost-budgets.json"]["panels"]
    [panel] = [p for p in panels if p["title"] == "Price source"]
    assert panel["fieldConfig"]["defaults"]["unit"] == "short"  # not a percent of an info series
    [override] = panel["fieldConfig"]["overrides"]
    assert override["matcher"]["options"] == "Reported by provider"
    assert override["properties"] == [{"id": "unit", "value": "percentunit"}]
    [organize] = [t for t in panel["transformations"] if t["id"] == "organize"]
    assert organize["options"]["excludeByName"]["Value #A"] is True  # the info series' 1
