"""Exactly once under hostile deliveries: copies inside one request, nested
spans in every order, a retry after a failed write, malformed values beside
good ones, and gzip that is not what it says. Each case goes through a real
exporter (journal, tailer, HTTP server) in this process and is judged by its
``/metrics``."""

import gzip
import json
import urllib.error
import urllib.request

import pytest
from harness.support import post_body, samples, wait_for

from hypertool_exporter.app import Exporter
from hypertool_exporter.http.otlp import decode_json
from hypertool_exporter.http.spans import SpanIngest
from hypertool_exporter.journal.store import Journal, JournalError
from hypertool_exporter.journal.writer import JournalWriter
from hypertool_exporter.model.config import Config

TOKEN = "exactly-once-ingest-token-0123456789"
TRACE = "5b8efff798038103d269b633813fc60c"
NOW_NS = 1_796_000_000_000_000_000


@pytest.fixture
def exporter(tmp_path, monkeypatch):
    """A running exporter with a journal and ingest; ``.port`` is its own."""
    monkeypatch.setenv("HYPERTOOL_CLOCK_OFFSET_SECONDS", "0")
    path = tmp_path / "journal.sqlite"
    running = Exporter(Config(), journal=path, clock=lambda: NOW_NS / 1e9 + 5)
    running.catch_up()
    writer = JournalWriter(path, on_commit=running.tailer.expect)
    server = running.serve("127.0.0.1", 0, ingest=writer, ingest_token=TOKEN)
    running.port = server.port
    yield running
    running.close()
    writer.close()


def post(port, path, body, content_type="application/json", headers=None):
    """(status, answer bytes) of a POST with the ingest token."""
    return post_body(port, path, body, TOKEN, content_type, headers)


def tokens(port):
    """Input tokens counted, over every label set."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        found = samples(response.read().decode())
    return sum(
        value
        for (name, labels), value in found.items()
        if name == "hypertool_persona_tokens_used_total" and ("token_type", "input") in labels
    )


def settled(port, expected):
    """Wait until the counted input tokens reach ``expected``; return them then."""
    wait_for(lambda: tokens(port) >= expected or None, what=f"{expected} input tokens")
    return tokens(port)


def attr(key, value):
    kind = "intValue" if isinstance(value, int) else "stringValue"
    return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}


def otlp_span(span_id, parent=None, *, genai=True, end=0, extra=()):
    attributes = [attr("gen_ai.operation.name", "chat"), attr("gen_ai.request.model", "m")]
    attributes += [attr("gen_ai.usage.input_tokens", 100), attr("gen_ai.usage.output_tokens", 1)]
    span = {
        "traceId": TRACE,
        "spanId": span_id,
        "name": "chat" if genai else "step",
        "startTimeUnixNano": str(NOW_NS - 1_000_000_000),
        "endTimeUnixNano": str(NOW_NS + end),
        "attributes": (attributes if genai else []) + list(extra),
    }
    if parent:
        span["parentSpanId"] = parent
    return span


def export(*spans):
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": list(spans)}]}]}).encode()


def test_copies_of_a_span_side_by_side_in_one_request_count_once(exporter):
    one = otlp_span("00f067aa0ba902b7")
    status, _ = post(exporter.port, "/v1/traces", export(one, one))
    assert status == 200
    marker = otlp_span("00f067aa0ba902b8")
    post(exporter.port, "/v1/traces", export(marker))
    assert settled(exporter.port, 200) == 200  # the pair's 100, then the marker's 100


def test_an_event_id_given_twice_in_one_batch_counts_once(exporter):
    event = {"type": "tokens_used", "persona": "qa", "model": "m", "input_tokens": 10}
    event["event_id"] = "same-delivery"
    status, answer = post(exporter.port, "/v1/events", json.dumps([event, event]).encode())
    assert status == 202
    assert json.loads(answer) == {"accepted": 2, "new": 1, "duplicates": 1}


def test_a_span_with_two_events_of_one_kind_counts_both_and_a_copy_neither(exporter):
    def result(name, score):
        attributes = [attr("gen_ai.evaluation.name", name)]
        attributes.append({"key": "gen_ai.evaluation.score.value", "value": {"doubleValue": score}})
        return {
            "name": "gen_ai.evaluation.result",
            "timeUnixNano": str(NOW_NS),
            "attributes": attributes,
        }

    scored = otlp_span("00f067aa0ba902b9")
    scored["events"] = [result("relevance", 0.9), result("toxicity", 0.1)]
    for _ in range(2):  # and again, as after a lost answer
        status, _ = post(exporter.port, "/v1/traces", export(scored))
        assert status == 200
    settled(exporter.port, 100)
    with urllib.request.urlopen(f"http://127.0.0.1:{exporter.port}/metrics", timeout=10) as answer:
        found = samples(answer.read().decode())
    counts = {
        dict(labels)["evaluation"]: value
        for (name, labels), value in found.items()
        if name == "hypertool_quality_score_count"
    }
    assert counts == {"relevance": 1.0, "toxicity": 1.0}
    assert tokens(exporter.port) == 100


def test_an_empty_event_id_is_refused_by_name_and_joins_no_other_delivery(exporter):
    event = {"type": "tokens_used", "persona": "qa", "model": "m", "input_tokens": 10}
    first = {**event, "event_id": "delivered"}
    assert post(exporter.port, "/v1/events", json.dumps([first]).encode())[0] == 202
    status, answer = post(
        exporter.port, "/v1/events", json.dumps([first, {**event, "event_id": ""}]).encode()
    )
    assert status == 400
    assert json.loads(answer)["field"] == "[1].event_id"
    assert settled(exporter.port, 10) == 10  # the first once; the empty key never reached it


@pytest.mark.parametrize(
    "order", [("outer", "middle", "inner"), ("inner", "outer", "middle"), ("middle", "outer")]
)
def test_a_genai_span_under_a_plain_span_under_a_genai_span_counts_once(exporter, order):
    chain = {
        "outer": otlp_span("a" * 16, end=10),
        "middle": otlp_span("b" * 16, "a" * 16, genai=False, end=5),
        "inner": otlp_span("c" * 16, "b" * 16),
    }
    post(exporter.port, "/v1/traces", export(*(chain[name] for name in order)))
    for name in {"outer", "middle", "inner"} - set(order):  # the rest in a request of its own
        post(exporter.port, "/v1/traces", export(chain[name]))
    post(exporter.port, "/v1/traces", export(otlp_span("d" * 16)))  # another trace's call
    assert settled(exporter.port, 200) == 200


def test_a_retried_export_after_a_failed_write_is_counted(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    failures = [JournalError("disk full")]

    def write(events, keys):
        if failures:
            raise failures.pop()
        return journal.append(events, keys)

    ingest = SpanIngest(write)

    inner, outer = otlp_span("c" * 16, "b" * 16), otlp_span("b" * 16, end=10)
    spans, refused = decode_json(export(inner, outer))  # one call, wrapped: counted once
    with pytest.raises(JournalError):
        ingest(spans, refused)
    assert ingest(spans, refused).new_events == 2  # its token usage and its call
    assert ingest(spans, refused).new_events == 0  # and a third delivery is a copy
    journal.close()


HOSTILE_ATTRIBUTES = {
    "non-ASCII digits": {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "١٢"}},
    "superscript digits": {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "²"}},
    "a 5000-digit string": {"key": "gen_ai.usage.input_tokens", "value": {"intValue": "9" * 5000}},
    "brackets": {
        "key": "langfuse.observation.usage_details",
        "value": {"stringValue": "[" * 100_000},
    },
}


@pytest.mark.parametrize("hostile", sorted(HOSTILE_ATTRIBUTES))
def test_a_malformed_value_is_refused_alone_and_the_good_spans_count(exporter, hostile):
    bad = otlp_span("00f067aa0ba902b1", extra=[HOSTILE_ATTRIBUTES[hostile]])
    bad["traceId"] = "6" * 32
    good = otlp_span("00f067aa0ba902b2")
    status, answer = post(exporter.port, "/v1/traces", export(bad, good))
    assert status == 200
    partial = json.loads(answer)["partialSuccess"]
    assert partial["rejectedSpans"] == "1"
    assert "00f067aa0ba902b1" in partial["errorMessage"]
    assert settled(exporter.port, 100) == 100


def test_a_5000_digit_number_is_refused_by_name_not_with_a_server_error(exporter):
    body = export(otlp_span("00f067aa0ba902b2")).replace(b'"chat"', b"9" * 5000, 1)
    status, answer = post(exporter.port, "/v1/traces", body)
    assert status == 200, answer
    event = b'[{"type": "tokens_used", "persona": "qa", "model": "m", "input_tokens": %s}]'
    status, answer = post(exporter.port, "/v1/events", event % (b"9" * 5000))
    assert status == 400
    assert json.loads(answer)["field"] == "[0].input_tokens"


@pytest.mark.parametrize("path", ["/v1/traces", "/v1/events"])
def test_json_nested_2000_deep_is_a_clear_400(exporter, path):
    status, answer = post(exporter.port, path, b"[" * 2000 + b"]" * 2000)
    assert status == 400
    assert b"nested too deep" in answer


def test_two_gzip_members_are_read_whole_and_a_truncated_stream_is_refused(exporter):
    body = export(otlp_span("00f067aa0ba902b3"), otlp_span("00f067aa0ba902b4"))
    half = len(body) // 2
    members = gzip.compress(body[:half]) + gzip.compress(body[half:])
    status, _ = post(exporter.port, "/v1/traces", members, headers=_GZIP)
    assert status == 200
    assert settled(exporter.port, 200) == 200
    truncated = gzip.compress(export(otlp_span("00f067aa0ba902b5")))[:-6]  # no length, short CRC
    status, answer = post(exporter.port, "/v1/traces", truncated, headers=_GZIP)
    assert status == 400
    assert b"ends early" in answer


_GZIP = {"Content-Encoding": "gzip"}
