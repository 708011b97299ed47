"""The generated rules: in sync, valid for promtool, tested, and consistent with the catalog."""

import re
import subprocess

import pytest
import yaml
from harness import promql_lint as lint
from harness.support import REPO, require_binary

from hypertool_exporter.bundle import rules

RULES = REPO / "alerts" / "hypertool.rules.yml"
DOCUMENT = yaml.safe_load(RULES.read_text())
ALERTS = [r for g in DOCUMENT["groups"] for r in g["rules"] if "alert" in r]
RECORDED = {r["record"] for g in DOCUMENT["groups"] for r in g["rules"] if "record" in r}


def test_committed_rules_match_the_generator():
    assert RULES.read_text() == rules.render_rules(), "run `make bundle` and commit alerts/"


def run_tool(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(args, capture_output=True, text=True, cwd=REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_promtool_check_rules():
    run_tool(require_binary("promtool"), "check", "rules", str(RULES))


PROMTOOL_TESTS = sorted((REPO / "alerts" / "tests").glob("*.test.yml"))


def test_promtool_unit_tests_pass():
    out = run_tool(
        require_binary("promtool"), "test", "rules", *(str(path) for path in PROMTOOL_TESTS)
    )
    assert (out.stdout + out.stderr).count("SUCCESS") == len(PROMTOOL_TESTS)


def test_every_alert_has_a_promtool_test():
    tests = "".join(path.read_text() for path in PROMTOOL_TESTS)
    for alert in {a["alert"] for a in ALERTS}:
        assert f"alertname: {alert}" in tests, alert


def test_alertmanager_config_is_valid():
    run_tool(require_binary("amtool"), "check-config", str(REPO / "alerts" / "alertmanager.yml"))


def test_deploy_prometheus_config_is_valid():
    run_tool(require_binary("promtool"), "check", "config", str(REPO / "deploy" / "prometheus.yml"))


@pytest.mark.parametrize(
    "rule",
    [r for g in DOCUMENT["groups"] for r in g["rules"]],
    ids=lambda r: r.get("alert") or r.get("record"),
)
def test_rules_name_only_what_the_exporter_emits(rule):
    assert lint.check_expr(rule["expr"], RECORDED) == []


def test_lint_catches_unknown_names_and_values():
    assert lint.check_expr("rate(hypertool_persona_tokens_total[5m])", set()) == [
        "unknown metric hypertool_persona_tokens_total"
    ]
    assert lint.check_expr('hypertool_workflow_quality_gate_total{result="failure"}', set()) == [
        'result="failure" is never emitted'
    ]
    assert lint.check_expr("persona:nothing:rate5m", set()) == [
        "unknown recording rule persona:nothing:rate5m"
    ]


def test_alert_shape_follows_the_mixin_style():
    runbook = (REPO / "docs" / "runbook.md").read_text()
    sections = {h.lower() for h in re.findall(r"^## (\S+)", runbook, re.M)}
    for alert in ALERTS:
        assert re.fullmatch(r"[A-Z][A-Za-z]+", alert["alert"])
        assert alert["labels"]["severity"] in ("critical", "warning", "info")
        summary = alert["annotations"]["summary"]
        assert summary.endswith(".") and "{{" not in summary
        assert "{{" in alert["annotations"]["description"]
        url = alert["annotations"]["runbook_url"]
        assert url.split("#")[1] in sections, f"docs/runbook.md has no section for {url}"
        if alert["alert"] == "HypertoolExporterDown":
            assert 'up{job=~"hypertool"}' in alert["expr"]


def test_divisions_are_guarded():
    for alert in ALERTS:
        if re.search(r"^\s*/", alert["expr"], re.M) or " / on" in alert["expr"]:
            assert "> 0" in alert["expr"], alert["alert"]


def test_another_selector_regenerates_a_bundle_that_passes_the_whole_promtool_suite(tmp_path):
    """bundle build --selector: every rule and dashboard query carries it, and the
    promtool tests, with their series relabelled to match, all pass on it."""
    from harness.support import run_cli

    run_cli(
        "bundle",
        "build",
        "--root",
        str(tmp_path),
        "--selector",
        'job="ai-agents"',
        "--exporter-job",
        "ai-agents",
    )
    document = yaml.safe_load((tmp_path / "alerts" / "hypertool.rules.yml").read_text())
    raw_metric = re.compile(r"(?<![\w:])(hypertool_\w+)(?![\w:])(\{[^}]*\})?")
    for group in document["groups"]:
        for rule in group["rules"]:
            for name, matchers in raw_metric.findall(rule["expr"]):
                assert 'job="ai-agents"' in matchers, (name, rule["expr"])
            if rule["expr"].startswith("up{"):
                assert 'up{job=~"ai-agents"}' in rule["expr"]
    for dashboard in (tmp_path / "dashboards").glob("*.json"):
        text = dashboard.read_text()
        assert text.count('job=\\"ai-agents\\", job=~\\"$job\\"') > 5, dashboard.name
    tests_dir = tmp_path / "alerts" / "tests"
    tests_dir.mkdir()
    for path in PROMTOOL_TESTS:
        text = path.read_text().replace('job="hypertool"', 'job="ai-agents"')
        text = text.replace("job: hypertool", "job: ai-agents")
        text = text.replace("a job matching hypertool", "a job matching ai-agents")
        text = text.replace("scraped job hypertool", "scraped job ai-agents")
        (tests_dir / path.name).write_text(text)
    out = run_tool(
        require_binary("promtool"),
        "test",
        "rules",
        *(str(p) for p in sorted(tests_dir.glob("*.test.yml"))),
    )
    assert (out.stdout + out.stderr).count("SUCCESS") == len(PROMTOOL_TESTS)


def test_bundle_build_leaves_a_readme_without_the_table_markers_alone(tmp_path):
    """Run in your own project, ``bundle build`` writes the bundle and leaves
    your README be; the project's own README gets its metric table."""
    from hypertool_exporter.bundle import docs
    from hypertool_exporter.bundle.build import build_all

    (tmp_path / "README.md").write_text("# My project\n")
    written = build_all(tmp_path)
    assert (tmp_path / "README.md").read_text() == "# My project\n"
    assert tmp_path / "README.md" not in written
    assert (tmp_path / "alerts" / "hypertool.rules.yml") in written
    (tmp_path / "README.md").write_text(f"# Mine\n{docs.BEGIN}\nold\n{docs.END}\n")
    assert tmp_path / "README.md" in build_all(tmp_path)
    assert "hypertool_persona_tokens_used_total" in (tmp_path / "README.md").read_text()
