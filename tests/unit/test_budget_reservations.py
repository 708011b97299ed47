"""Budget reservations: an amount held until its usage arrives or its time
to live passes, kept in the journal so every process on the machine sees it.

Over HTTP (fit, refuse, expire, release on usage, release unused, survive a
restart), in process, from the CLI, and two processes racing for the last
of a budget."""

import http.client
import json
import multiprocessing
import threading
import time
import urllib.error
import urllib.request

import pytest
from harness.support import run_cli, wait_for
from prometheus_client import CollectorRegistry

from hypertool_exporter import BudgetExceeded, PersonaMetricsCollector
from hypertool_exporter.app import Ready, run_server
from hypertool_exporter.journal.writer import JournalWriter
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.fields import EventError
from hypertool_exporter.sync.budget_desk import BudgetDesk

TOKEN = "reservation-token-0123456789abcdef"
BUDGETS = """\
budgets:
  qa: {tokens: 1000, usd: 0.05, period: daily}
pricing:
  m: {input: 0.03, output: 0.06}
"""


def start(journal):
    config = parse_config(f"ingest: {{token: {TOKEN}}}\n{BUDGETS}")
    stop, ready = threading.Event(), Ready()
    thread = threading.Thread(
        target=run_server,
        daemon=True,
        args=(config, "127.0.0.1", 0, str(journal)),
        kwargs={"ready": ready, "stop": stop},
    )
    thread.start()
    assert ready.wait(15)

    def halt():
        stop.set()
        thread.join(15)

    return f"http://127.0.0.1:{ready.port}", halt


@pytest.fixture
def server(tmp_path):
    url, halt = start(tmp_path / "journal.sqlite")
    yield url
    halt()


def call(method, url, body=None, token=TOKEN):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def reserve(server, persona="qa", **amounts):
    return call("POST", f"{server}/v1/budgets/{persona}/reservations", amounts)


def tokens_of(server):
    return call("GET", f"{server}/v1/budgets/qa")[1]["budget"]["tokens"]


def test_a_reservation_holds_an_amount_until_its_usage_arrives(server):
    status, granted = reserve(server, tokens=600, usd=0.01, ttl_seconds=120)
    assert status == 201, granted
    assert granted["reservation_id"].startswith("rsv_") and granted["tokens"] == 600
    assert granted["expires_at"].endswith("Z") and 119 < granted["ttl_seconds"] <= 120
    assert granted["check"]["allowed"] is True
    assert tokens_of(server) == {
        "limit": 1000,
        "used": 0,
        "reserved": 600,
        "remaining": 1000,
        "available": 400,
    }
    # A second asking for more than is left beside it is refused, with the standing.
    status, refused = reserve(server, tokens=500)
    assert status == 409 and refused["check"]["allowed"] is False
    assert refused["budget"]["tokens"]["reserved"] == 600
    assert "0 of 1,000 tokens used and 600 reserved, 500 more do not fit" in refused["error"]
    assert reserve(server, tokens=400)[0] == 201  # exactly what is left
    assert call("GET", f"{server}/v1/budgets/qa?tokens=1")[1]["check"]["allowed"] is False

    # The usage arrives naming the reservation: held no more, used instead.
    usage = {"type": "tokens_used", "persona": "qa", "model": "m", "input_tokens": 550}
    usage["reservation_id"] = granted["reservation_id"]
    assert call("POST", f"{server}/v1/events", [usage])[0] == 202
    assert tokens_of(server) == {
        "limit": 1000,
        "used": 550,
        "reserved": 400,
        "remaining": 450,
        "available": 50,
    }
    assert reserve(server, tokens=50)[0] == 201 and reserve(server, tokens=1)[0] == 409


def test_a_reservation_is_given_back_unused_or_lapses_at_its_ttl(server):
    _, first = reserve(server, tokens=900)
    url = f"{server}/v1/budgets/qa/reservations/{first['reservation_id']}"
    assert call("DELETE", url) == (204, None)
    assert call("DELETE", url)[0] == 404  # once only
    assert tokens_of(server)["reserved"] == 0
    # Another persona cannot give it back.
    _, second = reserve(server, tokens=900, ttl_seconds=0.5)
    other = f"{server}/v1/budgets/someone-else/reservations/{second['reservation_id']}"
    assert call("DELETE", other)[0] == 404
    assert reserve(server, tokens=200)[0] == 409
    # Its time to live passes: the amount is free again, with nothing sent.
    wait_for(lambda: tokens_of(server)["reserved"] == 0, what="the reservation to lapse")
    assert reserve(server, tokens=1000)[0] == 201


def test_a_reservation_given_back_on_a_kept_connection_answers_204_without_a_length(server):
    _, granted = reserve(server, tokens=100)
    host, port = server.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    conn.request(
        "DELETE", f"/v1/budgets/qa/reservations/{granted['reservation_id']}", headers=headers
    )
    answer = conn.getresponse()
    assert (answer.status, answer.getheader("Content-Length"), answer.read()) == (204, None, b"")
    sock = conn.sock
    conn.request("GET", "/v1/budgets/qa", headers=headers)  # the same connection, next request
    answer = conn.getresponse()
    assert answer.status == 200 and json.loads(answer.read())["budget"]["tokens"]["reserved"] == 0
    assert conn.sock is sock
    conn.close()


def test_reservations_refuse_bad_requests_naming_the_field(server):
    url = f"{server}/v1/budgets/qa/reservations"
    for body, field in (
        ({"tokens": -1}, "tokens"),
        ({"tokens": 1.5}, "tokens"),
        ({"usd": "a lot"}, "usd"),
        ({}, "tokens"),
        ({"tokens": 10, "ttl_seconds": 0}, "ttl_seconds"),
        ({"tokens": 10, "ttl_seconds": 86_401}, "ttl_seconds"),
        ({"tokens": 10, "model": "m"}, "model"),
        ([1, 2], "body"),
    ):
        status, answer = call("POST", url, body)
        assert status == 400 and answer["field"] == field, (body, answer)
    assert call("POST", url, {"tokens": 10}, token="wrong")[0] == 401
    assert call("POST", f"{server}/v1/budgets/qa", {"tokens": 10})[0] == 405
    assert call("DELETE", f"{server}/v1/budgets/qa")[0] == 405
    # A reservation id belongs on a tokens_used event only; the batch is refused whole.
    switch = {"type": "persona_switched", "to_persona": "qa", "reservation_id": "rsv_x"}
    status, answer = call("POST", f"{server}/v1/events", [switch])
    assert status == 400 and answer["field"] == "[0].reservation_id"
    assert tokens_of(server)["reserved"] == 0


def test_reservations_survive_a_restart_and_the_cli_sees_them(tmp_path):
    journal = tmp_path / "journal.sqlite"
    config = tmp_path / "hypertool.yml"
    config.write_text(BUDGETS)
    url, halt = start(journal)
    _, granted = reserve(url, tokens=700, ttl_seconds=600)
    halt()
    url, halt = start(journal)
    try:
        assert tokens_of(url)["reserved"] == 700
        cli = ("--config", str(config), "--journal", str(journal))
        refused = run_cli("check", "qa", "--tokens", "400", *cli, check=False)
        assert refused.returncode == 1 and "700 reserved" in refused.stdout
        # The CLI reserves too: the id alone on stdout, the reason on stderr.
        held = run_cli("check", "qa", "--tokens", "300", "--reserve", "60", *cli)
        reservation_id = held.stdout.strip()
        assert reservation_id.startswith("rsv_") and "fits" in held.stderr
        assert tokens_of(url)["reserved"] == 1000
        assert reserve(url, tokens=1)[0] == 409
        # Its usage, recorded from the shell, releases it.
        run_cli(
            "tokens", "qa", "--model", "m", "--input", "250", "--reservation-id", reservation_id,
            "--journal", str(journal), "--quiet",
        )  # fmt: skip
        assert tokens_of(url) == {
            "limit": 1000,
            "used": 250,
            "reserved": 700,
            "remaining": 750,
            "available": 50,
        }
        bad = run_cli("check", "qa", "--reserve", "0", *cli, check=False)
        assert bad.returncode == 2 and "--reserve" in bad.stderr
    finally:
        halt()
    assert granted["reservation_id"] != reservation_id


def _race(journal, config_text, start_at, results):
    """One process's attempts: reserve 100 tokens five times."""
    writer = JournalWriter(journal)
    desk = BudgetDesk(writer, parse_config(config_text), time.time)
    while time.time() < start_at:
        pass
    for _ in range(5):
        reservation, _ = desk.reserve("qa", 100, 0.0, 60.0)
        results.put(reservation is not None)
    writer.close()


def test_two_processes_racing_never_hold_more_than_the_budget(tmp_path):
    """Four processes ask for 100 tokens five times each at the same moment: a
    1,000-token budget grants exactly ten."""
    journal = str(tmp_path / "journal.sqlite")
    JournalWriter(journal).open()
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    start_at = time.time() + 3.0
    workers = [
        context.Process(target=_race, args=(journal, BUDGETS, start_at, results)) for _ in range(4)
    ]
    for worker in workers:
        worker.start()
    granted = [results.get(timeout=60) for _ in range(20)]
    for worker in workers:
        worker.join(30)
    assert granted.count(True) == 10 and granted.count(False) == 10


def test_in_process_reservations_are_the_journal_s(tmp_path):
    journal = tmp_path / "journal.sqlite"
    config = parse_config(BUDGETS)
    first = PersonaMetricsCollector(CollectorRegistry(), config=config, journal=journal)
    second = PersonaMetricsCollector(CollectorRegistry(), config=config, journal=journal)
    try:
        held = first.reserve_budget("QA", tokens=800, ttl_seconds=60)
        assert held.persona == "qa" and held.tokens == 800
        # Another process (here: another collector on the journal) sees it.
        assert second.check_budget("qa", tokens=300).allowed is False
        with pytest.raises(BudgetExceeded, match="800 reserved"):
            second.reserve_budget("qa", tokens=300)
        first.record_token_usage("qa", "code", "m", 700, 0, reservation_id=held.id)
        # buffered: committed within 10 ms, the reservation holding until then; now
        first.flush()
        answer = second.check_budget("qa", tokens=300)
        assert answer.allowed and answer.standing.tokens_used == 700
        other = second.reserve_budget("qa", tokens=300)
        assert first.release_budget("qa", other.id) is True
        assert first.release_budget("qa", other.id) is False
        with pytest.raises(EventError, match="ttl_seconds"):
            first.reserve_budget("qa", tokens=1, ttl_seconds=0)
    finally:
        first.close()
        second.close()
    without = PersonaMetricsCollector(CollectorRegistry(), config=config)
    with pytest.raises(RuntimeError, match="journal"):
        without.reserve_budget("qa", tokens=1)
