"""A longer fuzz of OTLP/HTTP trace ingest than the tests run: OTLP JSON and
protobuf requests against a live exporter for a fixed time.

Each request carries one canary span (a chat span of one token, ids of its
own) beside hypothesis-generated spans whose attributes hold any value of any
type, sometimes gzipped. The rules:

- a well-formed request is answered 200, whatever its other spans hold (a
  span that cannot be mapped is refused alone, in ``partial_success``), with
  a body of the request's encoding that decodes;
- a request mangled on the way (bytes cut or flipped, a broken gzip stream)
  is answered 200 or 400, never 5xx, and never kills the connection without
  a status line;
- afterwards every canary counts exactly once: the canary persona's input
  tokens equal the well-formed requests sent (a mangled request's canary is
  another persona's, which no single cut or flipped byte turns into this one).

The figure is the number of requests that broke a rule over the number sent.
"""

from __future__ import annotations

import gzip
import itertools
import json
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import Result
from harness.support import ExporterProcess, sample
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

TOKEN = "fuzz-otlp-token-0123456789abcdef"
CANARY = "canary-otlp"
#: The canary persona of mangled requests (it may count or not).
MANGLED = "mangled-canary"
MODEL = "fuzz-model"

ATTRIBUTE_NAMES = st.sampled_from(
    [
        "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.request.model",
        "gen_ai.response.model", "gen_ai.operation.name", "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_write.input_tokens", "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.provider.name", "gen_ai.system", "gen_ai.usage.cost", "user.id", "session.id",
        "error.type", "hypertool.stage.name", "hypertool.workflow.name",
        "hypertool.quality_gate.result", "langfuse.observation.type",
        "langfuse.observation.usage_details", "langfuse.observation.cost_details",
        "gen_ai.server.time_to_first_token", "x",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(['{"input": 3, "output": "x"}', '{"prompt_tokens_details": [', "١٢", "1e999"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
ATTRIBUTES = st.lists(st.tuples(ATTRIBUTE_NAMES, VALUES), max_size=8)
SPANS = st.lists(st.tuples(ATTRIBUTES, st.integers(0, 2**64 - 1), st.integers(0, 2)), max_size=4)
#: How a request is sent: as built, gzipped, or mangled (cut, flipped, broken gzip).
SENDING = st.sampled_from(["plain", "gzip", "cut", "flip", "bad-gzip"])

_ids = itertools.count(1)


def _json_value(value: Any) -> dict[str, Any]:
    """``value`` as an OTLP JSON ``AnyValue``, any type kept (an int past 64
    bits and a float that JSON cannot hold included: the exporter must refuse
    them alone)."""
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value) if value % 2 else value}
    if isinstance(value, float):
        return {
            "doubleValue": value if value == value and abs(value) != float("inf") else str(value)
        }
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_json_value(v) for v in value]}}
    if isinstance(value, dict):
        return {
            "kvlistValue": {
                "values": [{"key": k, "value": _json_value(v)} for k, v in value.items()]
            }
        }
    return {}


def _pb_value(value: Any) -> AnyValue:
    """``value`` as a protobuf ``AnyValue`` (an int past 64 bits as its text)."""
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return (
            AnyValue(int_value=value)
            if -(2**63) <= value < 2**63
            else AnyValue(string_value=str(value))
        )
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, list):
        any_value = AnyValue()
        any_value.array_value.values.extend(_pb_value(v) for v in value)
        return any_value
    if isinstance(value, dict):
        any_value = AnyValue()
        any_value.kvlist_value.values.extend(
            KeyValue(key=k, value=_pb_value(v)) for k, v in value.items()
        )
        return any_value
    return AnyValue()


def _canary(persona: str) -> tuple[list[tuple[str, Any]], int]:
    """The canary's attributes and span id (each canary a trace of its own)."""
    attributes = [
        ("gen_ai.operation.name", "chat"),
        ("gen_ai.request.model", MODEL),
        ("gen_ai.usage.input_tokens", 1),
        ("gen_ai.usage.output_tokens", 0),
        ("user.id", persona),
    ]
    return attributes, next(_ids)


def _spans(
    fuzzed: list[tuple[list[tuple[str, Any]], int, int]], persona: str
) -> list[dict[str, Any]]:
    """The canary and the fuzzed spans as plain dicts (ids, times, attributes).
    Fuzzed spans share one trace, apart from every canary's, and may name a
    parent among themselves."""
    attributes, canary_id = _canary(persona)
    spans = [
        {"trace": canary_id, "span": canary_id, "parent": 0, "attributes": attributes},
    ]
    trace = next(_ids) + (1 << 100)
    for attrs, span_id, parent in fuzzed:
        spans.append({"trace": trace, "span": span_id or 1, "parent": parent, "attributes": attrs})
    return spans


def _json_body(spans: list[dict[str, Any]]) -> bytes:
    start = 1_796_000_000_000_000_000
    return json.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {
                        "attributes": [{"key": "service.name", "value": {"stringValue": "fuzz"}}]
                    },
                    "scopeSpans": [
                        {
                            "spans": [
                                {
                                    "traceId": f"{s['trace']:032x}",
                                    "spanId": f"{s['span']:016x}",
                                    **(
                                        {"parentSpanId": f"{s['parent']:016x}"}
                                        if s["parent"]
                                        else {}
                                    ),
                                    "name": "chat",
                                    "kind": 3,
                                    "startTimeUnixNano": str(start),
                                    "endTimeUnixNano": str(start + 500_000_000),
                                    "attributes": [
                                        {"key": k, "value": _json_value(v)}
                                        for k, v in s["attributes"]
                                    ],
                                }
                                for s in spans
                            ]
                        }
                    ],
                }
            ]
        },
        allow_nan=True,
    ).encode()


def _protobuf_body(spans: list[dict[str, Any]]) -> bytes:
    start = 1_796_000_000_000_000_000
    scope = ScopeSpans()
    for s in spans:
        span = Span(
            trace_id=(s["trace"] % (1 << 128)).to_bytes(16, "big"),
            span_id=s["span"].to_bytes(8, "big"),
            parent_span_id=s["parent"].to_bytes(8, "big") if s["parent"] else b"",
            name="chat",
            kind=Span.SPAN_KIND_CLIENT,
            start_time_unix_nano=start,
            end_time_unix_nano=start + 500_000_000,
        )
        span.attributes.extend(KeyValue(key=k, value=_pb_value(v)) for k, v in s["attributes"])
        scope.spans.append(span)
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[scope])]
    ).SerializeToString()


def _mangle(body: bytes, how: str, seed: int) -> tuple[bytes, dict[str, str]]:
    """``body`` sent ``how``: as it is, gzipped, or mangled."""
    if how == "gzip":
        return gzip.compress(body), {"Content-Encoding": "gzip"}
    if how == "bad-gzip":
        zipped = gzip.compress(body)
        return zipped[: max(1, seed % len(zipped))], {"Content-Encoding": "gzip"}
    if how == "cut":
        return body[: seed % max(1, len(body))], {}
    if how == "flip":
        at = seed % max(1, len(body))
        return body[:at] + bytes([body[at] ^ 0xFF]) + body[at + 1 :] if body else body, {}
    return body, {}


def _post(port: int, body: bytes, content_type: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/traces",
        data=body,
        method="POST",
        headers={"Content-Type": content_type, "Authorization": f"Bearer {TOKEN}", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _decodes(body: bytes, content_type: str) -> bool:
    """Whether an answer is a body of the request's encoding."""
    try:
        if content_type == "application/json":
            json.loads(body)
        else:
            ExportTraceServiceResponse().ParseFromString(body)
    except Exception:  # json's ValueError, protobuf's DecodeError
        return False
    return True


def _fuzz(
    exporter: ExporterProcess,
    content_type: str,
    encode: Callable[[list[dict[str, Any]]], bytes],
    seconds: float,
) -> Result:
    """Fuzz one encoding for ``seconds``: the rules above, counted."""
    sent = broken = canaries = 0
    before = _canary_tokens(exporter)
    end = time.monotonic() + seconds

    @settings(
        max_examples=200, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    @given(SPANS, SENDING, st.integers(0, 2**32))
    def fuzz(fuzzed: Any, how: str, seed: int) -> None:
        nonlocal sent, broken, canaries
        whole = how in ("plain", "gzip")
        body, headers = _mangle(encode(_spans(fuzzed, CANARY if whole else MANGLED)), how, seed)
        status, answer = _post(exporter.port, body, content_type, headers)
        sent += 1
        if whole:
            canaries += 1
            broken += status != 200 or not _decodes(answer, content_type)
        else:
            broken += status not in (200, 400)

    while time.monotonic() < end:  # rounds of fresh random examples
        fuzz()
    # Acknowledged is journalled; folded a moment later.
    exporter.scrape_when(
        lambda _: _canary_tokens(exporter) - before >= canaries,
        timeout=30,
        what="the canaries to be folded",
    )
    broken += _canary_tokens(exporter) - before != canaries
    kind = "JSON" if content_type == "application/json" else "protobuf"
    return Result(
        f"OTLP {kind} fuzz {seconds:.0f} s: requests breaking a rule / requests sent",
        broken,
        sent,
        "req",
        "0",
        broken == 0,
    )


def run(quick: bool = False) -> list[Result]:
    seconds = 10 if quick else 60
    with tempfile.TemporaryDirectory() as tmp:
        exporter = ExporterProcess(
            Path(tmp) / "j.sqlite", env={"HYPERTOOL_INGEST_TOKEN": TOKEN}, ready_timeout=120
        )
        try:
            results = [
                _fuzz(exporter, "application/json", _json_body, seconds),
                _fuzz(exporter, "application/x-protobuf", _protobuf_body, seconds),
            ]
            exporter.scrape()  # still answering
        finally:
            exporter.stop()
    return results


def _canary_tokens(exporter: ExporterProcess) -> float:
    return (
        sample(
            exporter.scrape(),
            "hypertool_persona_tokens_used_total",
            persona=CANARY,
            chatmode="default",
            model=MODEL,
            token_type="input",
        )
        or 0.0
    )
