"""OTLP trace ingest: spans per second accepted and applied by a running
exporter, and span-to-visible latency.

- Throughput: GenAI chat spans with usage, in OTLP protobuf requests of 512
  spans, posted by four client threads (keep-alive connections) to
  ``serve``. Accepted: spans answered 200 per second; applied: spans per
  second until ``/metrics`` counts every one of them (the fold counted, not
  deferred). The baseline is the same spans' events appended straight to the
  journal in-process (same run): what HTTP, decoding and mapping add.
  Goal: at least 40,000 spans/s applied, and never fewer than 20,000 in
  any second of the run. Also reported: the applied rate
  against a plain Python parse-and-walk of the same bodies (the protobuf
  library's parse, every span's attributes read: the floor of any Python
  receiver), and the slowest second of the run (accepted spans, counted by
  the clients as the answers come). A full run sends 1,024,000 spans, past
  every bounded table's eviction; the growth exponent of the time to answer
  from the first tenth of them (102,400) to all says whether the cost per
  span stays flat (goal: at most 1.05). ``serve`` runs with its default
  mapping workers (``otlp.workers: auto``); the same spans into a ``serve``
  that maps every export itself (``otlp.workers: 0``), first in the same
  run, give their ratio; the applied rate per core is the rate over the
  cores ``serve`` and its workers share.
- Latency: under a background load of 2,000 spans/s, a probe span every
  100 ms; the time from its 200 answer to a scrape that shows it.
  Goal: p99 at most 1 s.
"""

from __future__ import annotations

import http.client
import math
import os
import random
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import NamedTuple

from common import Result, visibility_under_load
from harness.support import ExporterProcess, children_of, cpu_seconds
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from hypertool_exporter.http.mapping_pool import default_workers
from hypertool_exporter.http.otlp import decode_protobuf
from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model.cores import cores
from hypertool_exporter.model.genai import SpanMapping, span_events
from hypertool_exporter.model.wire import delivery_keys

TOKEN = "bench-otlp-ingest-token-0123456789"
CONFIG = "limits: {max_label_values: 100000}\n"
BATCH = 512
#: Clients posting at once: several apps export to one exporter.
CLIENTS = 4
_REQUESTS = re.compile(r'^hypertool_llm_requests_total\{[^}]*persona="([^"]+)"[^}]*\} (\S+)$', re.M)


def _request(first: int, count: int, persona: str | None = None) -> bytes:
    """An export of ``count`` chat spans with usage, ids random as an SDK's
    (W3C trace ids are random, and the journal keeps each span's delivery
    key in a B-tree: ids counted up from ``first`` would all land at its end
    and hide what random ones cost), seeded by ``first``."""
    ids = random.Random(first)
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    attribute = resource_spans.resource.attributes.add()
    attribute.key, attribute.value.string_value = "service.name", "bench"
    spans = resource_spans.scope_spans.add().spans
    now = time.time_ns()
    for n in range(first, first + count):
        span = spans.add()
        span.trace_id = ids.getrandbits(128).to_bytes(16, "big")
        span.span_id = ids.getrandbits(64).to_bytes(8, "big")
        span.name = "chat gpt-4o"
        span.kind = 3
        span.start_time_unix_nano = now - 800_000_000
        span.end_time_unix_nano = now
        for key, value in (
            ("gen_ai.operation.name", "chat"),
            ("gen_ai.provider.name", "openai"),
            ("gen_ai.request.model", "gpt-4o"),
            ("user.id", persona or f"persona-{n % 30}"),
            ("session.id", f"mode-{n % 7}"),
        ):
            attribute = span.attributes.add()
            attribute.key, attribute.value.string_value = key, value
        for key, value in (("gen_ai.usage.input_tokens", 100), ("gen_ai.usage.output_tokens", 20)):
            attribute = span.attributes.add()
            attribute.key, attribute.value.int_value = key, value
    return request.SerializeToString()


class _Client:
    """One keep-alive connection posting exports."""

    def __init__(self, port: int):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def post(self, body: bytes) -> int:
        self.connection.request(
            "POST",
            "/v1/traces",
            body=body,
            headers={
                "Content-Type": "application/x-protobuf",
                "Authorization": f"Bearer {TOKEN}",
            },
        )
        answer = self.connection.getresponse()
        answer.read()
        return answer.status


def _applied(text: str) -> int:
    """Spans of the throughput run that ``/metrics`` counts (one call each)."""
    return sum(int(float(v)) for p, v in _REQUESTS.findall(text) if p.startswith("persona-"))


def _baseline(tmp: Path, bodies: list[bytes]) -> float:
    """Spans per second when their events go straight into the journal."""
    received = time.time()
    batches = []
    for body in bodies:
        spans, _ = decode_protobuf(body)
        events, keys = [], []
        for span in spans:
            found = span_events(span, SpanMapping(), received)
            events.extend(found)
            keys += delivery_keys(span.key, len(found))
        batches.append((events, keys))
    with Journal(tmp / "baseline.sqlite") as journal:
        start = time.perf_counter()
        for events, keys in batches:
            journal.append(events, keys)
        elapsed = time.perf_counter() - start
    return len(bodies) * BATCH / elapsed


def _parse_and_walk(bodies: list[bytes]) -> float:
    """Spans per second of a receiver that only parses each body and reads
    every span's attributes: best of three passes."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for body in bodies:
            request = ExportTraceServiceRequest.FromString(body)
            for resource_spans in request.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        for attribute in span.attributes:
                            value = attribute.value
                            getattr(value, value.WhichOneof("value") or "string_value")
        best = min(best, time.perf_counter() - start)
    return len(bodies) * BATCH / best


def _slowest_second(answered: list[float], start: float) -> float:
    """The fewest spans answered in any whole second of the run."""
    seconds = int(max(answered) - start)
    if seconds < 2:
        return len(answered) * BATCH / max(max(answered) - start, 1e-9)
    counts = [0] * seconds
    for at in answered:
        second = int(at - start)
        if second < seconds:
            counts[second] += 1
    return min(counts) * BATCH


def _growth_exponent(answered: list[float], start: float) -> tuple[int, int, float]:
    """(spans, spans, exponent): how the time to answer grows from the first
    tenth of the run's spans to all of them (time ~ spans ** exponent; 1 is
    a flat cost per span)."""
    times = sorted(at - start for at in answered)
    tenth = max(1, len(times) // 10)
    exponent = math.log(times[-1] / times[tenth - 1]) / math.log(len(times) / tenth)
    return tenth * BATCH, len(times) * BATCH, exponent


class _Run(NamedTuple):
    """What a run of ``_serve_run`` measured."""

    accepted: float  # spans/s answered
    applied: float  # spans/s counted on /metrics
    answered: list[float]  # when each request's answer came
    start: float
    #: CPU seconds over the run of ``serve`` and of the processes it started
    #: (the mapping workers, their start-up included).
    serve_cpu: float
    children_cpu: float


def _serve_run(tmp: Path, config: Path, bodies: list[bytes], name: str) -> _Run:
    """Post ``bodies`` to a fresh ``serve`` from ``CLIENTS`` clients, until
    ``/metrics`` counts them all."""
    total = len(bodies) * BATCH
    serve = ExporterProcess(
        tmp / f"{name}.sqlite", config, env={"HYPERTOOL_INGEST_TOKEN": TOKEN}, ready_timeout=120
    )
    pid = serve.proc.pid
    try:
        before = {child: cpu_seconds(child) for child in [pid, *children_of(pid)]}
        queue = list(bodies)
        lock = threading.Lock()
        failures: list[int] = []
        answered: list[float] = []  # when each request's answer came

        def send() -> None:
            client = _Client(serve.port)
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                status = client.post(body)
                answered.append(time.perf_counter())
                if status != 200:
                    failures.append(status)

        start = time.perf_counter()
        threads = [threading.Thread(target=send) for _ in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        accepted = total / (time.perf_counter() - start)
        deadline = time.perf_counter() + 300
        while _applied(serve.text()) < total:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"only {_applied(serve.text())} of {total} spans applied")
            time.sleep(0.02)
        applied = total / (time.perf_counter() - start)
        children = children_of(pid)
        children_cpu = sum(cpu_seconds(child) - before.get(child, 0.0) for child in children)
        serve_cpu = cpu_seconds(pid) - before[pid]
    finally:
        serve.stop()
    if failures:
        raise RuntimeError(f"ingest answered {sorted(set(failures))}")
    return _Run(accepted, applied, answered, start, serve_cpu, children_cpu)


def throughput(tmp: Path, config: Path, spans: int) -> list[Result]:
    bodies = [_request(first, BATCH) for first in range(0, spans, BATCH)]
    total = len(bodies) * BATCH
    baseline = _baseline(tmp, bodies)
    walk = _parse_and_walk(bodies[:200])
    # The same spans into a serve that maps every export itself (same run, first).
    one = tmp / "one-process.yml"
    one.write_text(config.read_text() + "otlp: {workers: 0}\n")
    alone = _serve_run(tmp, one, bodies, "one-process").applied
    run = _serve_run(tmp, config, bodies, "workers")
    accepted, applied = run.accepted, run.applied
    workers = default_workers()
    slowest = _slowest_second(run.answered, run.start)
    fewer, more, exponent = _growth_exponent(run.answered, run.start)
    serve_us, workers_us = run.serve_cpu / total * 1e6, run.children_cpu / total * 1e6
    return [
        Result(
            f"OTLP: {total:,} spans accepted/s (batches of {BATCH}) vs journal appends/s",
            accepted,
            baseline,
            "spans/s",
            "(same order)",
            None,
        ),
        Result(
            f"OTLP: {total:,} spans applied/s (fold counted) vs journal appends/s",
            applied,
            baseline,
            "spans/s",
            ">= 40,000 spans/s",
            applied >= 40_000,
        ),
        Result(
            f"OTLP: spans applied/s with {workers} mapping workers (otlp.workers: auto)"
            " vs mapped in serve alone",
            applied,
            alone,
            "spans/s",
            "(reported)",
            None,
        ),
        Result(
            f"OTLP: spans applied/s per core ({cores()} cores) vs a plain Python"
            " parse-and-walk of the same bodies on one",
            applied / cores(),
            walk,
            "spans/s",
            "(reported)",
            None,
        ),
        Result(
            "OTLP: serve's CPU a span (HTTP, lineage, journal, fold) vs its workers'"
            " (decoding, mapping; their start included)",
            serve_us,
            workers_us,
            "us",
            "(reported)",
            None,
        ),
        Result(
            "OTLP: what one serve could record with cores enough to map"
            " (1 / its CPU a span) vs the run's rate",
            1e6 / serve_us,
            applied,
            "spans/s",
            "(reported)",
            None,
        ),
        Result(
            "OTLP: the slowest second of the run (spans answered) vs the run's rate",
            slowest,
            accepted,
            "spans/s",
            ">= 20,000 spans/s",
            slowest >= 20_000,
        ),
        Result(
            f"OTLP: growth exponent of the time to answer, {fewer:,} to {more:,} spans",
            exponent,
            1.0,
            "",
            "<= 1.05",
            exponent <= 1.05,
        ),
    ]


def latency(tmp: Path, config: Path, seconds: float) -> Result:
    serve = ExporterProcess(
        tmp / "latency.sqlite", config, env={"HYPERTOOL_INGEST_TOKEN": TOKEN}, ready_timeout=120
    )
    loader, prober = _Client(serve.port), _Client(serve.port)
    first = {"load": 10_000_000, "probe": 20_000_000}

    def load() -> None:  # 2,000 spans/s in requests of 100
        loader.post(_request(first["load"], 100))
        first["load"] += 100
        time.sleep(0.05)

    def probe() -> None:
        assert prober.post(_request(first["probe"], 1, persona="probe")) == 200
        first["probe"] += 1

    def visible() -> int:
        return sum(int(float(v)) for p, v in _REQUESTS.findall(serve.text()) if p == "probe")

    try:
        return visibility_under_load(
            "OTLP span-to-visible, 2,000 spans/s load,", load, probe, visible, seconds
        )
    finally:
        serve.stop()


def run(quick: bool = False) -> list[Result]:
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        config = tmp / "config.yml"
        config.write_text(CONFIG)
        # Quick: past the workers' start-up, which a shorter run would mostly measure.
        results = throughput(tmp, config, 153_600 if quick else 1_024_000)
        results.append(latency(tmp, config, 3 if quick else 10))
    return results


if __name__ == "__main__":  # pragma: no cover
    from common import table

    print(table(run(quick=os.environ.get("QUICK") == "1")))
