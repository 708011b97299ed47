"""A check before the call: the same answer in process, over HTTP and from the
CLI (``model.budget_check``), and ``enforce_budget=True`` refusing a call
before the LLM is reached."""

import asyncio
import json
import threading
import urllib.error
import urllib.request

import pytest
from harness.support import wait_for
from prometheus_client import CollectorRegistry

from hypertool_exporter import BudgetExceeded, ObservableLLM, PersonaMetricsCollector, observe_llm
from hypertool_exporter.app import Ready, run_server
from hypertool_exporter.model.budget_check import check
from hypertool_exporter.model.budgets import Standing
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.fields import EventError

TOKEN = "budget-api-token-0123456789abcdef"
BUDGETS = """\
budgets:
  backend-engineer: {tokens: 1000, usd: 0.05, period: daily}
  shared: {tokens: 5000, period: weekly, scope: fleet}
  default: {tokens: 300, period: monthly}
pricing:
  m: {input: 0.03, output: 0.06}
"""


def test_an_amount_fits_while_every_limit_holds_it_and_something_is_left():
    s = Standing("p", "daily", 1000, 900, 0.05, 0.03, 60.0)
    assert check("p", s, tokens=100).allowed  # exactly to the limit
    assert not check("p", s, tokens=101).allowed
    assert check("p", s, usd=0.02).allowed and not check("p", s, usd=0.021).allowed
    spent = Standing("p", "daily", 1000, 1000, None, 0.0, 60.0)
    refused = check("p", spent)  # a call of unknown size: nothing left, refused
    assert not refused.allowed and refused.refused == ["1,000 of 1,000 tokens used, none left"]
    both = check("p", Standing("p", "daily", 1000, 990, 0.05, 0.06, 3600.0), tokens=20, usd=0.01)
    assert both.explain() == (
        "p: does not fit its daily budget: 990 of 1,000 tokens used, 20 more do not fit; "
        "$0.06 of $0.05 spent, $0.01 more does not fit (resets in 1h 0m)"
    )
    assert check("p", None, tokens=10**9).allowed  # no budget applies


def test_check_budget_in_process_and_enforce_budget_refuses_before_the_call():
    collector = PersonaMetricsCollector(CollectorRegistry(), config=parse_config(BUDGETS))
    assert collector.check_budget("Backend Engineer", tokens=1000).allowed  # normalised name
    collector.record_token_usage("backend-engineer", "code", "m", 950, 0)
    answer = collector.check_budget("backend-engineer", tokens=100)
    assert not answer.allowed and answer.standing.tokens_used == 950
    assert collector.check_budget("newcomer", tokens=300).allowed  # the default budget
    assert not collector.check_budget("newcomer", tokens=301).allowed
    with pytest.raises(EventError, match="tokens"):
        collector.check_budget("backend-engineer", tokens=-1)

    called = []

    def llm(prompt):
        called.append(prompt)
        return {"usage": {"prompt_tokens": 60, "completion_tokens": 0}}

    guarded = ObservableLLM(llm, "m", "backend-engineer", collector=collector, enforce_budget=True)
    guarded("first")  # 50 tokens left: a call of unknown size may start
    assert called == ["first"]
    with pytest.raises(BudgetExceeded) as refused:  # 1,010 used now: nothing left
        guarded("second")
    assert called == ["first"]  # never called
    assert str(refused.value).startswith("backend-engineer: does not fit its daily budget: 1,010")
    assert refused.value.check.standing.tokens_limit == 1000

    @observe_llm("m", "backend-engineer", collector=collector, enforce_budget=True)
    async def async_llm(prompt):
        called.append(prompt)

    with pytest.raises(BudgetExceeded):
        asyncio.run(async_llm("third"))
    assert called == ["first"]
    # Without enforcement nothing is refused: the check is opt-in.
    ObservableLLM(llm, "m", "backend-engineer", collector=collector)("fourth")
    assert called == ["first", "fourth"]


@pytest.fixture
def server(tmp_path):
    config = parse_config(f"ingest: {{token: {TOKEN}}}\n{BUDGETS}")
    stop, ready = threading.Event(), Ready()
    thread = threading.Thread(
        target=run_server,
        daemon=True,
        args=(config, "127.0.0.1", 0, str(tmp_path / "journal.sqlite")),
        kwargs={"ready": ready, "stop": stop},
    )
    thread.start()
    assert ready.wait(15)
    yield f"http://127.0.0.1:{ready.port}"
    stop.set()
    thread.join(15)


def get(url, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def post(url, events):
    request = urllib.request.Request(
        url,
        data=json.dumps(events).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return response.status


def test_the_budget_endpoint_answers_the_standing_and_the_check(server):
    status, body = get(f"{server}/v1/budgets/backend-engineer?tokens=500&usd=0.01")
    assert status == 200
    budget = body["budget"]
    assert budget["period"] == "daily" and budget["scope"] == "instance"
    assert budget["tokens"] == {
        "limit": 1000,
        "used": 0,
        "reserved": 0,
        "remaining": 1000,
        "available": 1000,
    }
    assert budget["usd"] == {
        "limit": 0.05,
        "used": 0.0,
        "reserved": 0.0,
        "remaining": 0.05,
        "available": 0.05,
    }
    assert budget["resets_at"].endswith("T00:00:00Z") and 0 < budget["resets_in_seconds"] <= 86400
    assert body["check"]["allowed"] is True

    event = {"type": "tokens_used", "persona": "backend-engineer", "model": "m"}
    assert post(f"{server}/v1/events", [{**event, "input_tokens": 800}]) == 202

    wait_for(
        lambda: get(f"{server}/v1/budgets/backend-engineer")[1]["budget"]["tokens"]["used"] == 800,
        what="the ingested tokens to be folded",
    )
    status, body = get(f"{server}/v1/budgets/Backend%20Engineer?tokens=500")
    assert status == 200 and body["persona"] == "backend-engineer"
    assert body["budget"]["tokens"]["remaining"] == 200
    assert body["check"]["allowed"] is False
    assert "800 of 1,000 tokens used, 500 more do not fit" in body["check"]["reason"]
    # A fleet budget says so: this exporter knows only its own share.
    assert get(f"{server}/v1/budgets/shared")[1]["budget"]["scope"] == "fleet"
    # A persona the config does not name takes the default budget.
    assert get(f"{server}/v1/budgets/someone?tokens=1")[1]["budget"]["tokens"]["limit"] == 300


def test_the_budget_endpoint_refuses_what_it_cannot_answer(server):
    assert get(f"{server}/v1/budgets/backend-engineer", token=None)[0] == 401
    assert get(f"{server}/v1/budgets/backend-engineer", token="wrong")[0] == 401
    for query, field in (
        ("tokens=-5", "tokens"),
        ("tokens=1e3", "tokens"),
        ("usd=NaN", "usd"),
        ("tokens=1&tokens=2", "tokens"),
        ("model=gpt-4", "model"),
    ):
        status, body = get(f"{server}/v1/budgets/backend-engineer?{query}")
        assert status == 400 and body["field"] == field, query
    status, body = get(f"{server}/v1/budgets/{'x' * 500}")
    assert status == 400 and body["field"] == "persona"
    assert get(f"{server}/v1/budgets/")[0] == 400
