"""A longer fuzz of HTTP ingest than the tests run: hypothesis-generated event
batches (and mangled framing) against a live exporter for a fixed time.

Every answer must be 202 or 400 for well-framed requests, and an HTTP status
line for mangled ones; afterwards the exporter must still answer and a
canary recorded first must be exact. The figure is the number of requests
that broke a rule (target 0) over the number sent.
"""

from __future__ import annotations

import socket
import time

from common import Result
from harness.support import ExporterProcess, post_events, sample
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TOKEN = "fuzz-ingest-token-0123456789abcdef"
CANARY = {"type": "tokens_used", "persona": "canary", "model": "m", "input_tokens": 7}

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(
    [
        "type",
        "persona",
        "model",
        "input_tokens",
        "output_tokens",
        "cache_read_tokens",
        "ts",
        "event_id",
        "chatmode",
        "cost_usd",
        "to_persona",
        "duration_seconds",
        "x",
    ]
)
BATCHES = st.lists(st.dictionaries(FIELDS, VALUES, max_size=7), max_size=4)
FRAMING = st.lists(
    st.sampled_from(
        [
            "Content-Length: 5",
            "Content-Length: +5",
            "Content-Length: 5, 5",
            "Transfer-Encoding: chunked",
            "Content-Length: 99999999999",
            "Idempotency-Key: k",
            "Idempotency-Key: \u00e9",
            "X: " + "a" * 100,
            "Content-Length: -1",
        ]
    ),
    max_size=4,
)


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        return sock.recv(64)


def run(quick: bool = False) -> list[Result]:
    import tempfile
    from pathlib import Path

    seconds = 10 if quick else 60
    sent, broken = 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        exporter = ExporterProcess(
            Path(tmp) / "j.sqlite", env={"HYPERTOOL_INGEST_TOKEN": TOKEN}, ready_timeout=120
        )
        try:
            post_events(exporter.port, [CANARY], TOKEN)
            end = time.monotonic() + seconds

            @settings(
                max_examples=200,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(BATCHES, FRAMING, st.binary(max_size=40))
            def fuzz(batch, headers, body):
                nonlocal sent, broken
                status, _ = post_events(exporter.port, batch, TOKEN)
                sent += 1
                broken += status not in (202, 400)
                head = "".join(f"{h}\r\n" for h in headers)
                request = f"POST /v1/events HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\n"
                answer = _raw(exporter.port, f"{request}{head}\r\n".encode() + body)
                sent += 1
                broken += not answer.startswith(b"HTTP/1.")

            while time.monotonic() < end:  # rounds of fresh random examples
                fuzz()
            canary = sample(
                exporter.scrape(),
                "hypertool_persona_tokens_used_total",
                persona="canary",
                chatmode="default",
                model="m",
                token_type="input",
            )
            broken += canary != 7
        finally:
            exporter.stop()
    return [
        Result(
            f"ingest fuzz {seconds} s: requests breaking a rule / requests sent",
            broken,
            sent,
            "req",
            "0",
            broken == 0,
        )
    ]
