"""The status page at `/`, loaded in a real headless Chromium from an exporter fed
with demo traffic: budgets equal to /metrics, an overspent persona shown as
overspent, no Content-Security-Policy violation, and a screenshot."""

import base64
import os
import re
import shutil
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser

import bcrypt
import pytest
from harness.support import REPO, ExporterProcess, headless_chromium, http_get, sample, wait_for

from hypertool_exporter.cli.demo import BACKLOG_RUNS, DEMO_CONFIG, TrafficGenerator
from hypertool_exporter.exposition.statuspage import CONTENT_SECURITY_POLICY
from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model.config import parse_config

#: backend-engineer's daily token budget is far below what the demo traffic
#: spends; devops-engineer has tokens to spare and is over its dollars.
CONFIG = """
budgets:
  default: {tokens: 100000000, period: monthly}
  backend-engineer: {tokens: 5000, period: daily}
  testing-specialist: {tokens: 50000000, usd: 5000, period: weekly}
  devops-engineer: {tokens: 1000000000, usd: 0.01, period: weekly}
"""


class Rows(HTMLParser):
    """The budget table's rows: (persona, unit) -> (class, cell texts)."""

    def __init__(self):
        super().__init__()
        self.rows: dict[tuple[str, str], tuple[str, list[str]]] = {}
        self._row: tuple[str, list[str]] | None = None
        self._persona = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "tr" and "data-persona" in attrs:
            self._persona = (attrs["data-persona"], attrs["data-unit"])
            self._row = (attrs.get("class", ""), [])
        elif tag == "td" and self._row is not None:
            self._row[1].append("")

    def handle_data(self, data):
        if self._row is not None and self._row[1]:
            self._row[1][-1] += data

    def handle_endtag(self, tag):
        if tag == "tr" and self._row is not None:
            self.rows[self._persona] = (self._row[0], [t.strip() for t in self._row[1]])
            self._row = None


@pytest.fixture
def demo_exporter(tmp_path):
    journal = tmp_path / "journal.sqlite"
    with Journal(journal) as j:
        j.append(TrafficGenerator().backlog(time.time(), BACKLOG_RUNS))
    config = tmp_path / "budgets.yml"
    config.write_text(CONFIG)
    exporter = ExporterProcess(journal, config)
    wait_for(
        lambda: sample(exporter.scrape(), "hypertool_exporter_journal_lag_events") == 0,
        what="the backlog to be applied",
    )
    yield exporter
    exporter.stop()


def test_status_page_in_a_real_browser(demo_exporter, tmp_path):
    url = f"http://127.0.0.1:{demo_exporter.port}/"
    values = demo_exporter.scrape()
    dom = headless_chromium(url, tmp_path / "profile", "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert "Content Security Policy" not in dom.stderr  # nothing refused: no inline style
    rows = Rows()
    rows.feed(dom.stdout)
    # Each limit a bar of its own: (unit, metric prefix and suffix, how an amount reads).
    units = (
        ("tokens", "token_budget", "", lambda n: f"{int(n):,}"),
        ("usd", "cost_budget", "_usd", lambda n: f"${n:,.2f}"),
    )
    checked = [
        ("backend-engineer", units[0]),
        ("testing-specialist", units[0]),
        ("devops-engineer", units[0]),
        ("testing-specialist", units[1]),
        ("devops-engineer", units[1]),
    ]
    for persona, (unit, metric, suffix, shown) in checked:
        kind, cells = rows.rows[(persona, unit)]
        prefix = f"hypertool_persona_{metric}"
        used = sample(values, f"{prefix}_used{suffix}", persona=persona, period=cells[3])
        limit = sample(values, f"{prefix}_limit{suffix}", persona=persona, period=cells[3])
        # Tokens nobody priced are not in the dollars: the amount says so.
        unpriced = unit == "usd" and any(
            value
            for (name, labels), value in values.items()
            if name == "hypertool_persona_unpriced_tokens_total" and ("persona", persona) in labels
        )
        amount = f"{shown(used)} / {shown(limit)}" + (" tokens" if unit == "tokens" else "")
        assert cells[2] == amount + (" + unpriced" if unpriced else ""), (persona, unit)
        remaining = sample(values, f"{prefix}_remaining{suffix}", persona=persona)
        if remaining < 0:
            assert kind == "over" and cells[4] == f"overspent by {shown(-remaining)}", persona
        else:
            assert kind != "over" and cells[4] == f"{shown(remaining)} left", persona
    assert ("backend-engineer", "usd") not in rows.rows  # no dollar limit, no dollar bar
    assert rows.rows[("backend-engineer", "tokens")][0] == "over"  # the demo spends more
    # Over its dollars with tokens to spare: the dollar bar says so, not "1%".
    assert rows.rows[("devops-engineer", "usd")][0] == "over"
    assert rows.rows[("devops-engineer", "tokens")][0] == "ok"
    assert "No journal" not in dom.stdout and 'id="spend"' in dom.stdout
    assert re.search(
        r"<td>testing-specialist</td><td class=\"n\">\$[\d,.]+( <span|</td>)", dom.stdout
    )
    assert "<polyline" in dom.stdout  # the 30-day spend line
    # A model with no price is marked, never "$0.00".
    unpriced_models = {
        dict(labels)["model"]
        for (name, labels), value in values.items()
        if name == "hypertool_persona_unpriced_tokens_total" and value
    }
    models = re.findall(r"<tr><td>([^<]+)</td><td class=\"n\">(.*?)</td></tr>", dom.stdout)
    shown = dict(models)
    assert unpriced_models & shown.keys(), "the demo traffic has an unpriced model, shown"
    for model in unpriced_models & shown.keys():
        assert "unpriced" in shown[model] and shown[model] != "$0.00", model
    assert re.search(
        r'<table id="gates">.*?<td>(package-release|code-review|incident-response)',
        dom.stdout,
        re.S,
    )


def test_the_readme_screenshot_is_what_make_demo_shows(tmp_path):
    """The demo's own budgets and traffic, drawn by Chromium: the picture in
    README (``HYPERTOOL_UPDATE_SCREENSHOT=1`` writes it to docs/)."""
    journal = tmp_path / "journal.sqlite"
    with Journal(journal) as j:
        j.append(TrafficGenerator().backlog(time.time(), BACKLOG_RUNS))
    config = tmp_path / "demo.yml"
    config.write_text(DEMO_CONFIG)
    exporter = ExporterProcess(journal, config)
    try:
        wait_for(
            lambda: sample(exporter.scrape(), "hypertool_exporter_journal_lag_events") == 0,
            what="the backlog to be applied",
        )
        url = f"http://127.0.0.1:{exporter.port}/"
        page = http_get(url)[1]
        for persona in parse_config(DEMO_CONFIG).budgets:
            if persona != "default":
                assert f'data-persona="{persona}"' in page, persona
        shot = tmp_path / "status-page.png"
        taken = headless_chromium(
            url,
            tmp_path / "profile",
            f"--screenshot={shot}",
            "--window-size=1100,1400",
            "--hide-scrollbars",
        )
    finally:
        exporter.stop()
    assert taken.returncode == 0, taken.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    if os.environ.get("HYPERTOOL_UPDATE_SCREENSHOT"):
        shutil.copy(shot, REPO / "docs" / "status-page.png")


def test_status_page_needs_the_same_auth_as_metrics_and_sends_a_csp(tmp_path):
    password = "status-page-password"
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode()
    web = tmp_path / "web.yml"
    web.write_text(f"basic_auth_users:\n  viewer: {hashed}\n")
    exporter = ExporterProcess(tmp_path / "j.sqlite", env={"HYPERTOOL_WEB_CONFIG_FILE": str(web)})
    try:
        for path in ("/", "/metrics"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                http_get(f"http://127.0.0.1:{exporter.port}{path}")
            assert refused.value.code == 401
        token = base64.b64encode(f"viewer:{password}".encode()).decode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{exporter.port}/", headers={"Authorization": f"Basic {token}"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
            assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            page = response.read().decode()
        assert "<script" not in page and "http://" not in page.replace("http-equiv", "")
    finally:
        exporter.stop()
