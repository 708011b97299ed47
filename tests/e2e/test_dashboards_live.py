"""Every query of every dashboard panel, against a real Prometheus that scrapes
the exporter fed by the demo, parses and returns data."""

import re
import subprocess
import time

import pytest
from harness.dashboard_queries import DASHBOARD_FILES, load, panel_queries, substitute
from harness.fast_rules import fast_config
from harness.support import (
    CLI,
    PrometheusProcess,
    deploy_prometheus_config,
    http_get,
    serving_port,
    wait_for,
)

from hypertool_exporter.bundle.rules import render_rules

RATE_INTERVAL = "10s"  # Grafana's $__rate_interval for a 1 s scrape and a short range


@pytest.fixture(scope="module")
def live_prometheus(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dashboards")
    demo = subprocess.Popen(
        [
            *CLI,
            "demo",
            "--port",
            "0",
            "--rate",
            "5",
            "--journal",
            str(tmp / "journal.sqlite"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=(tmp / "demo.log").open("wb"),
    )
    port = wait_for(lambda: serving_port(tmp / "demo.log"), 30, "the demo exporter to bind")
    rules = tmp / "hypertool.rules.yml"
    rules.write_text(render_rules(fast_config()))
    try:
        wait_for(
            lambda: http_get(f"http://127.0.0.1:{port}/healthz", timeout=1)[0] == 200,
            30,
            "the demo exporter",
        )
        prometheus = PrometheusProcess(
            tmp / "prom", deploy_prometheus_config([f"127.0.0.1:{port}"], [rules])
        )
        started = time.time()
        # Enough scrapes for rates over $__rate_interval and a few rule evaluations.
        wait_for(
            lambda: (
                time.time() - started > 15
                and prometheus.query(
                    "workflow_stage:hypertool_workflow_stage_duration_seconds:p95_rate5m"
                )
            ),
            60,
            "recording rules to produce data",
        )
        yield prometheus, started
    finally:
        if "prometheus" in locals():
            prometheus.stop()
        demo.terminate()
        demo.wait(20)


QUERIES = [
    (path.name, panel["title"], target["refId"], target)
    for path in DASHBOARD_FILES
    for panel, target in panel_queries(load(path))
]


@pytest.mark.parametrize(
    ("dashboard", "title", "ref", "target"), QUERIES, ids=[f"{d}:{t}:{r}" for d, t, r, _ in QUERIES]
)
def test_panel_query_returns_data(live_prometheus, dashboard, title, ref, target):
    prometheus, started = live_prometheus
    dash = load(DASHBOARD_FILES[0].parent / dashboard)
    range_ = f"{int(time.time() - started) + 5}s"
    expr = substitute(target["expr"], dash, RATE_INTERVAL, range_)
    if target.get("instant"):
        result = prometheus.api("query", query=expr)["result"]
    else:
        now = time.time()
        result = prometheus.api(
            "query_range", query=expr, start=str(now - 30), end=str(now), step="2"
        )["result"]
    assert result, f"{title} [{ref}] returned no data for: {expr}"


def readme_questions() -> list[tuple[str, str]]:
    """(question, PromQL) of README's table of questions."""
    from harness.support import REPO

    text = (REPO / "README.md").read_text()
    table = text.split("<!-- questions:", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\| (.+?\?) \| `(.+)` \|$", table, re.M)


QUESTIONS = readme_questions()


def test_readme_has_its_questions():
    asked = {question for question, _ in QUESTIONS}
    assert "How many flows ran successfully today?" in asked
    assert "Which flows cost the most?" in asked


@pytest.mark.parametrize(("question", "query"), QUESTIONS, ids=[q for q, _ in QUESTIONS])
def test_readme_question_is_answered(live_prometheus, question, query):
    prometheus, _ = live_prometheus
    if question == "Who is close to a budget?":  # may rightly be empty: it must parse
        prometheus.api("query", query=query)
        return
    assert prometheus.api("query", query=query)["result"], f"{question}: {query}"
