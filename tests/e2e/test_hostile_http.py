"""Hostile HTTP against a running exporter: malformed framing over raw sockets,
retried batches, a kill right after a send, and a bounded ingest fuzz. Every
request gets an HTTP answer and is counted; nothing recorded before is lost;
/metrics stays valid for promtool after every attack."""

import http.client
import json
import re
import signal
import socket
import subprocess

import pytest
from harness.support import (
    ExporterProcess,
    post_events,
    require_binary,
    run_cli,
    sample,
    wait_for,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TOKEN = "hostile-http-ingest-token-0123456789"
EVENT = {"type": "tokens_used", "persona": "qa", "model": "m", "input_tokens": 10}


def raw_request(port: int, data: bytes, half_close: bool = False, whole: bool = False) -> bytes:
    """Send bytes as they are; return the server's answer: its first response
    (head, and the body its Content-Length gives) or, ``whole``, all it
    sends until it closes the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        if half_close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while whole or not _one_response(answer):
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            answer += chunk
    return answer


def _one_response(answer: bytes) -> bool:
    """Whether ``answer`` holds a whole response (head, and its body by Content-Length)."""
    head, end, body = answer.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:[ \t]*(\d+)\r?$", head)
    return bool(end) and length is not None and len(body) >= int(length.group(1))


def post(body: bytes, headers: str) -> bytes:
    return (
        f"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n{headers}\r\n"
    ).encode() + body


BODY = json.dumps(EVENT).encode()
#: (request, the status it must get, whether the peer half-closes after sending)
ATTACKS = [
    (post(BODY, f"Content-Length: {len(BODY)}\r\nTransfer-Encoding: chunked\r\n"), 400, False),
    (post(b"a\r\n" + BODY + b"\r\n0\r\n\r\n", "Transfer-Encoding: chunked\r\n"), 411, False),
    (post(BODY, f"Content-Length: {len(BODY)}\r\nContent-Length: {len(BODY)}\r\n"), 400, False),
    (post(BODY, f"Content-Length: +{len(BODY)}\r\n"), 400, False),
    (post(BODY, f"Content-Length: {len(BODY)},{len(BODY)}\r\n"), 400, False),
    (post(BODY, "Content-Length: 0x10\r\n"), 400, False),
    (post(BODY, ""), 411, False),
    (post(b"", "Content-Length: 99999999999\r\n"), 413, False),
    (post(BODY[:5], f"Content-Length: {len(BODY)}\r\n"), 400, True),
    (post(b'{"type":"tokens_used","type":"x"}', "Content-Length: 33\r\n"), 400, False),
    (post(b"[NaN]", "Content-Length: 5\r\n"), 400, False),
    (b"GET /metrics HTTP/1.1\r\n" + b"X-Long: " + b"a" * 70_000 + b"\r\n\r\n", 431, False),
    (b"GET /metrics HTTP/1.1\r\n" + b"X: y\r\n" * 150 + b"\r\n", 431, False),
    (b"BOGUS\r\n\r\n", 400, False),
    (b"GET /metrics HTTP/9.9\r\n\r\n", 505, False),
]


@pytest.fixture
def exporter(tmp_path):
    proc = ExporterProcess(tmp_path / "j.sqlite", env={"HYPERTOOL_INGEST_TOKEN": TOKEN})
    yield proc
    proc.stop()


def tokens_applied(exporter) -> float:
    return (
        sample(
            exporter.scrape(),
            "hypertool_persona_tokens_used_total",
            persona="qa",
            chatmode="default",
            model="m",
            token_type="input",
        )
        or 0.0
    )


def promtool_accepts(exporter) -> None:
    done = subprocess.run(
        [require_binary("promtool"), "check", "metrics"],
        input=exporter.text(),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_malformed_request_is_answered_counted_and_logged_in_one_line(exporter):
    assert post_events(exporter.port, [EVENT], TOKEN)[0] == 202  # the canary
    wait_for(lambda: tokens_applied(exporter) == 10, what="the canary")
    for request, status, half_close in ATTACKS:
        answer = raw_request(exporter.port, request, half_close)
        assert answer.startswith(f"HTTP/1.1 {status} ".encode()) or answer.startswith(
            f"HTTP/1.0 {status} ".encode()
        ), (request[:60], answer[:80])
        promtool_accepts(exporter)
    values = exporter.scrape()
    rejected = sample(values, "hypertool_exporter_events_rejected_total", reason="malformed")
    assert rejected == len(ATTACKS)
    assert tokens_applied(exporter) == 10  # nothing recorded before is lost, nothing added
    log = exporter.log.read_text()
    assert "Traceback" not in log
    assert log.count("refused") >= len(ATTACKS) - 1


def test_a_connection_serves_request_after_request(exporter):
    """HTTP/1.1 keep-alive: ingest and scrapes on one connection."""
    conn = http.client.HTTPConnection("127.0.0.1", exporter.port, timeout=10)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    first = None
    for method, path, body, status in [
        ("POST", "/v1/events", BODY, 202),
        ("GET", "/metrics", None, 200),
        ("POST", "/v1/events", b"[NaN]", 400),  # refused, its body read: still open
        ("POST", "/v1/events", BODY, 202),
    ]:
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        assert (answer.status, answer.version, answer.will_close) == (status, 11, False)
        first = first or conn.sock
        assert conn.sock is first  # the same connection throughout
    conn.close()
    wait_for(lambda: tokens_applied(exporter) == 20, what="both batches")


def test_a_body_sent_after_100_continue_keeps_the_connection(exporter):
    """``Expect: 100-continue`` (curl's way with large bodies): the interim
    answer asks for the body, the final one keeps the connection."""
    head = post(b"", f"Content-Length: {len(BODY)}\r\nExpect: 100-continue\r\n")
    with socket.create_connection(("127.0.0.1", exporter.port), timeout=10) as sock:
        sock.sendall(head)
        interim = sock.recv(4096)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(BODY)
        answer = b""
        while not _one_response(answer):
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 202 ") and b"Connection: close" not in answer
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # the same connection
        answer = b""
        while not _one_response(answer):
            answer += sock.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"ok\n")


@pytest.mark.parametrize(
    "path, token, status",
    [("/v1/events", "wrong", 401), ("/v1/traces", "wrong", 401), ("/nowhere", TOKEN, 404)],
)
def test_an_answer_before_the_body_is_read_closes_the_connection(exporter, path, token, status):
    """A request refused before its body is read: the body is never taken
    for the next request (it would be one here), the connection closes."""
    smuggled = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(smuggled)}\r\n\r\n"
    )
    answer = raw_request(exporter.port, head.encode() + smuggled, whole=True)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:80]
    assert answer.count(b"HTTP/1.1 ") == 1, answer  # nothing answered for the body
    assert b"\r\nConnection: close\r\n" in answer


def test_a_retried_batch_is_acknowledged_again_and_applied_once(exporter):
    headers = {"Idempotency-Key": "batch-0001"}
    for _ in range(3):
        status, body = post_events(exporter.port, [EVENT, EVENT], TOKEN, headers=headers)
        assert status == 202
    assert body == {"accepted": 2, "new": 0, "duplicates": 2}
    one = {**EVENT, "event_id": "call-7"}
    assert post_events(exporter.port, [one], TOKEN)[1]["new"] == 1
    assert post_events(exporter.port, [one, one], TOKEN)[1]["new"] == 0
    wait_for(lambda: tokens_applied(exporter) == 30, what="two events and one more")
    status, body = post_events(
        exporter.port, [EVENT], TOKEN, headers={"Idempotency-Key": "bad key\u00e9"}
    )
    assert status == 400 and body["field"] == "Idempotency-Key"


def test_a_client_killed_after_its_commit_retries_safely(tmp_path):
    journal = tmp_path / "j.sqlite"
    env = {"HYPERTOOL_INGEST_TOKEN": TOKEN}
    exporter = ExporterProcess(journal, env=env)
    batch = [EVENT] * 5
    headers = {"Idempotency-Key": "retry-after-crash"}
    assert post_events(exporter.port, batch, TOKEN, headers=headers)[0] == 202
    exporter.stop(signal.SIGKILL)  # the acknowledgement may never have reached anyone
    exporter = ExporterProcess(journal, env=env)
    try:
        assert post_events(exporter.port, batch, TOKEN, headers=headers)[0] == 202
        for _ in range(2):  # the same event id twice: recorded once
            run_cli(
                "tokens",
                "qa",
                "--model",
                "m",
                "--input",
                "10",
                "--event-id",
                "cli-1",
                "--journal",
                str(journal),
            )
        wait_for(lambda: tokens_applied(exporter) == 60, what="5 + 1 events, once each")
        assert tokens_applied(exporter) == 60
    finally:
        exporter.stop()


def test_a_weak_ingest_token_from_the_environment_is_refused(tmp_path):
    done = run_cli(
        "serve",
        "--port",
        "0",
        "--journal",
        str(tmp_path / "j.sqlite"),
        env={"HYPERTOOL_INGEST_TOKEN": "short"},
        check=False,
    )
    assert done.returncode == 2 and "at least 16 characters" in done.stderr


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.dictionaries(
            st.sampled_from(["type", "persona", "model", "input_tokens", "ts", "event_id", "x"]),
            JSON_VALUES,
            max_size=6,
        ),
        max_size=3,
    )
)
def test_ingest_fuzz_answers_202_or_400_and_never_breaks(exporter, batch):
    status, body = post_events(exporter.port, batch, TOKEN)
    assert status in (202, 400), (batch, status, body)
    if status == 400:
        assert "field" in body
