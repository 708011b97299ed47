"""The bundle on VictoriaMetrics (Debian's ``victoria-metrics`` package): the
shipped rules file, unchanged, evaluated by vmalert against VictoriaMetrics,
to which vmagent remote-writes what it scrapes from a live exporter fed by
the demo; the budget alert reaching a real
Alertmanager's webhook; and every dashboard query answered by
VictoriaMetrics, as ``test_dashboards_live`` does against Prometheus."""

import subprocess
import time

import pytest
import yaml
from harness.dashboard_queries import DASHBOARD_FILES, load, panel_queries, substitute
from harness.support import (
    CLI,
    REPO,
    AlertmanagerProcess,
    WebhookReceiver,
    deploy_prometheus_config,
    http_get,
    require_binary,
    run_cli,
    serving_port,
    shipped_alertmanager_config,
    wait_for,
)
from harness.victoria import VictoriaMetricsProcess, VmagentProcess, VmalertProcess

RULES = REPO / "alerts" / "hypertool.rules.yml"
RATE_INTERVAL = "10s"  # Grafana's $__rate_interval for a 1 s scrape and a short range
#: A persona the demo does not use: its default budget is 20M tokens a month.
PROBE = "vm-probe"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("victoria")
    journal = tmp / "journal.sqlite"
    demo = subprocess.Popen(
        [*CLI, "demo", "--port", "0", "--rate", "5", "--journal", str(journal)],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "demo.log").open("wb"),
    )
    started = []
    try:
        port = wait_for(lambda: serving_port(tmp / "demo.log"), 30, "the demo exporter to bind")
        wait_for(
            lambda: http_get(f"http://127.0.0.1:{port}/healthz", timeout=1)[0] == 200,
            30,
            "the demo exporter",
        )
        victoria = VictoriaMetricsProcess(tmp / "vm")
        started.append(victoria)
        # deploy/prometheus.yml, this test's address and one-second scrapes.
        scrape = deploy_prometheus_config([f"127.0.0.1:{port}"], [RULES])
        started.append(VmagentProcess(tmp / "vmagent", scrape, victoria.url))
        webhook = WebhookReceiver()
        alertmanager = AlertmanagerProcess(
            tmp / "am", shipped_alertmanager_config(webhook, fast=True)
        )
        started.append(alertmanager)
        vmalert = VmalertProcess(
            tmp / "vmalert",
            RULES,
            victoria.url,
            f"http://127.0.0.1:{alertmanager.port}",
            interval="2s",
        )
        started.append(vmalert)
        begun = time.time()
        # The recording group runs at its shipped interval (30 s): wait for two
        # evaluations with data, so a range query over the last minute and a
        # half holds both and VictoriaMetrics can tell their interval.
        recorded = "workflow_stage:hypertool_workflow_stage_duration_seconds:p95_rate5m"
        wait_for(
            lambda: victoria.query(f"count_over_time({recorded}[2m]) >= 2"),
            150,
            "two evaluations of vmalert's recording rules to reach VictoriaMetrics",
        )
        yield {
            "victoria": victoria,
            "vmalert": vmalert,
            "webhook": webhook,
            "journal": journal,
            "begun": begun,
        }
    finally:
        for process in reversed(started):
            process.stop()
        demo.terminate()
        demo.wait(20)


def test_the_shipped_vmagent_config_is_valid():
    config = REPO / "deploy" / "remote-write" / "vmagent.yml"
    checked = subprocess.run(
        [require_binary("vmagent"), f"-promscrape.config={config}", "-dryRun"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_vmalert_loads_every_shipped_rule(stack):
    shipped = yaml.safe_load(RULES.read_text())["groups"]
    groups = {g["name"]: g for g in stack["vmalert"].groups()}
    assert set(groups) == {g["name"] for g in shipped}
    for group in shipped:
        loaded = groups[group["name"]]
        names = [r.get("alert") or r.get("record") for r in group["rules"]]
        assert sorted(r["name"] for r in loaded["rules"]) == sorted(names)
        errors = [(r["name"], r["lastError"]) for r in loaded["rules"] if r["lastError"]]
        assert errors == []


def test_a_blown_budget_fires_through_vmalert_to_the_pager(stack):
    run_cli(
        "tokens", PROBE, "--model", "gpt-4", "--input", "25000000",
        "--journal", str(stack["journal"]), "--quiet",
    )  # fmt: skip

    def delivered():
        return [
            (path, alert)
            for path, status, alert in stack["webhook"].alerts()
            if status == "firing"
            and alert["labels"]["alertname"] == "PersonaTokenBudgetExceeded"
            and alert["labels"].get("persona") == PROBE
        ]

    path, alert = wait_for(delivered, 60, "PersonaTokenBudgetExceeded from vmalert")[0]
    assert path == "/alerts/critical" and alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["runbook_url"].endswith("#personatokenbudgetexceeded")
    # The fleet sums of the budget group are evaluated by vmalert too.
    assert stack["victoria"].query("persona_period:hypertool_persona_token_budget_used:fleet_sum")


QUERIES = [
    (path.name, panel["title"], target["refId"], target)
    for path in DASHBOARD_FILES
    for panel, target in panel_queries(load(path))
]


@pytest.mark.parametrize(
    ("dashboard", "title", "ref", "target"), QUERIES, ids=[f"{d}:{t}:{r}" for d, t, r, _ in QUERIES]
)
def test_panel_query_returns_data_on_victoriametrics(stack, dashboard, title, ref, target):
    victoria = stack["victoria"]
    dash = load(DASHBOARD_FILES[0].parent / dashboard)
    range_ = f"{int(time.time() - stack['begun']) + 5}s"
    expr = substitute(target["expr"], dash, RATE_INTERVAL, range_)
    if target.get("instant"):
        result = victoria.api("query", query=expr)
    else:
        now = time.time()
        result = victoria.api(
            "query_range", query=expr, start=str(now - 90), end=str(now), step="2"
        )
    assert result, f"{title} [{ref}] returned no data on VictoriaMetrics for: {expr}"
