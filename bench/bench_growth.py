"""How each cost grows with its load: every figure at 1x, 10x and 100x its
load, and the exponent of its growth (time ~ load ** exponent; 1 is linear,
0 is constant).

- journal replay without a snapshot (the cold start of a journal the CLI or
  ingest filled before any ``serve`` ran): seconds for N events;
- snapshot (``MetricState.to_json``, then the journal write) of N series;
- ``/metrics`` render of N series (steady state, the prefix cache warm);
- OTLP ingest in-process (mapping, lineage, journal appends) of N spans, past
  the size where the lineage evicts (1,000,000 spans in a full run);
- a tailer's announced commits (``sync.announced``) with N held: N taken from
  the front and N added at the back (each in O(1): exponent 1);
- the token hot path with its fold counted, per record, at N records between
  two scrapes over 100 label sets, against prometheus_client updating what a
  record updates (tokens in and out, cost, budget used), children cached (a
  constant is the goal: exponent 0); and, for a like-for-like figure, against
  the same plus the two GenAI token histograms a record also updates.

Run in-process with ``serve``'s collector settings.
"""

from __future__ import annotations

import gc
import math
import random
import tempfile
import time
from pathlib import Path

from bench_restart import write_journal
from bench_snapshot import _state
from common import Result
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from hypertool_exporter.exposition.textformat import StateRenderer
from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model import price_database
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.genai_metrics import GENAI_TOKEN_BUCKETS
from hypertool_exporter.sync.announced import Announced
from hypertool_exporter.sync.tailer import JournalTailer


def _replay(events: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "j.sqlite"
        write_journal(path, events)
        tailer = JournalTailer(MetricState(), path)
        tailer.open()
        start = time.perf_counter()
        tailer.catch_up()
        seconds = time.perf_counter() - start
        tailer.stop()
    return seconds


def _snapshot(series: int) -> float:
    state = _state(series)
    with tempfile.TemporaryDirectory() as tmp, Journal(Path(tmp) / "j.sqlite") as journal:
        start = time.perf_counter()
        journal.save_snapshot(0, state.to_json())
        return time.perf_counter() - start


def _render(series: int) -> float:
    renderer = StateRenderer(_state(series))
    renderer.render(False)  # the prefixes are built as serve's warm-up builds them
    start = time.perf_counter()
    renderer.render(False)
    return time.perf_counter() - start


def _announced(held: int) -> float:
    """Seconds to take ``held`` commits of one event each from the front of
    the announced commits and add as many at the back, ``held`` waiting: a
    tailer that fell behind its process's own writers."""
    announced, event = Announced(limit=2 * held), [object()]
    for row in range(held):
        announced.add(row + 1, event, 0)  # type: ignore[arg-type]  # only held, never folded
    start = time.perf_counter()
    for row in range(held):
        announced.take(row + 1, 1)
        announced.add(held + row + 1, event, row + 1)  # type: ignore[arg-type]
    return time.perf_counter() - start


LABEL_SETS = [(f"persona-{n % 10}", f"mode-{n // 10}", "gpt-4o") for n in range(100)]
#: Token counts of the records, varied (300-2,999 in, 60-759 out: three
#: input buckets), the same for both sides.
TOKEN_COUNTS = [(300 + (n * 7919) % 2700, 60 + (n * 104729) % 700) for n in range(1000)]
HOT_CONFIG = "budgets:\n  default: {tokens: 1000000000, period: monthly}\n"


def _hot_path(records: int) -> tuple[float, float, float]:
    """(seconds per record with its fold; seconds for prometheus_client to
    update what a record updates but its histograms: input and output tokens,
    cost, and the budget's used tokens and dollars, each a cached child; the
    same with the two GenAI token histograms a record also updates)."""
    collector = PersonaMetricsCollector(CollectorRegistry(), config=parse_config(HOT_CONFIG))
    record = collector.record_token_usage
    for labels in LABEL_SETS:
        record(*labels, 600, 250)
    collector.state.drain()
    registry = CollectorRegistry()
    tokens = Counter("tokens", "", ["persona", "chatmode", "model", "type"], registry=registry)
    cost = Counter("cost", "", ["persona", "chatmode", "model"], registry=registry)
    used = Gauge("used", "", ["persona", "unit"], registry=registry)
    usage = Histogram(
        "usage", "", ["model", "type"], registry=registry, buckets=GENAI_TOKEN_BUCKETS
    )
    children = [
        (
            tokens.labels(*labels, "input"),
            tokens.labels(*labels, "output"),
            cost.labels(*labels),
            used.labels(labels[0], "tokens"),
            used.labels(labels[0], "usd"),
        )
        for labels in LABEL_SETS
    ]
    usage_in, usage_out = usage.labels("gpt-4o", "input"), usage.labels("gpt-4o", "output")
    ours = theirs = histograms = float("inf")
    # Best of rounds of 30,000 records in all, at least three: a round of
    # 1,000 records takes about a millisecond, in which noise is large.
    for _ in range(max(3, 30_000 // records)):
        start = time.perf_counter()
        for n in range(records):
            record(*LABEL_SETS[n % 100], *TOKEN_COUNTS[n % 1000])
        collector.state.drain()  # the fold, as the next scrape runs it
        ours = min(ours, (time.perf_counter() - start) / records)
        start = time.perf_counter()
        for n in range(records):
            into, out, spent, used_tokens, used_usd = children[n % 100]
            inputs, outputs = TOKEN_COUNTS[n % 1000]
            into.inc(inputs)
            out.inc(outputs)
            usd = inputs * 2.5e-6 + outputs * 1e-5
            spent.inc(usd)
            used_tokens.inc(inputs + outputs)
            used_usd.inc(usd)
        theirs = min(theirs, (time.perf_counter() - start) / records)
        start = time.perf_counter()
        for n in range(records):
            into, out, spent, used_tokens, used_usd = children[n % 100]
            inputs, outputs = TOKEN_COUNTS[n % 1000]
            into.inc(inputs)
            out.inc(outputs)
            usd = inputs * 2.5e-6 + outputs * 1e-5
            spent.inc(usd)
            used_tokens.inc(inputs + outputs)
            used_usd.inc(usd)
            usage_in.observe(inputs)
            usage_out.observe(outputs)
        histograms = min(histograms, (time.perf_counter() - start) / records)
    return ours, theirs, histograms


def _otlp(spans: int) -> float:
    """Seconds for ``spans`` spans through OTLP ingest in-process (mapping,
    lineage, waiting calls, journal appends), in requests of 512: traces of
    a workflow, an agent and two chat calls, as an agent framework sends
    them. Past 100,000 spans the lineage evicts (``lineage.DEFAULT_CAPACITY``):
    its cost per span must not grow there."""
    from hypertool_exporter.http.spans import SpanIngest
    from hypertool_exporter.journal.writer import JournalWriter
    from hypertool_exporter.model.genai import SpanRecord

    now = int(time.time() * 1e9)
    chat = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 350,
        "gen_ai.usage.output_tokens": 120,
    }
    workflow = {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "triage"}
    agent = {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "devops"}
    resource = {"service.name": "agents"}

    draw = random.Random(11)  # ids random, as SDKs draw them; a trace ends 0.1 ms later

    def trace(index: int) -> list[SpanRecord]:
        tid = f"{draw.getrandbits(128):032x}"
        ids = [f"{draw.getrandbits(64):016x}" for _ in range(4)]
        end = now + index * 100_000
        return [
            SpanRecord(tid, ids[2], ids[1], "chat", now, end + 1000, dict(chat), resource),
            SpanRecord(tid, ids[3], ids[1], "chat", now, end + 2000, dict(chat), resource),
            SpanRecord(tid, ids[1], ids[0], "agent", now, end + 3000, dict(agent), resource),
            SpanRecord(tid, ids[0], None, "workflow", now, end + 4000, dict(workflow), resource),
        ]

    with tempfile.TemporaryDirectory() as tmp:
        writer = JournalWriter(Path(tmp) / "journal.sqlite", fsync=False)
        ingest = SpanIngest(writer)
        pending: list[SpanRecord] = []
        start = time.perf_counter()
        for index in range(spans // 4):
            pending += trace(index)
            if len(pending) >= 512:
                ingest(pending, [])
                pending = []
        if pending:
            ingest(pending, [])
        elapsed = time.perf_counter() - start
        writer.close()
    return elapsed


#: Growth exponents with a goal: a cost per item that must stay constant.
MOST_EXPONENT = {"announced commits taken and added, held": 1.1}


def _exponent(name: str, loads: tuple[int, ...], values: list[float]) -> Result:
    exponent = math.log(values[-1] / values[0]) / math.log(loads[-1] / loads[0])
    most = MOST_EXPONENT.get(name)
    return Result(
        f"{name}: growth exponent, {loads[0]:,} to {loads[-1]:,}",
        exponent,
        1.0,
        "",
        "" if most is None else f"<= {most} (O(1) an item)",
        None if most is None else exponent <= most,
    )


def run(quick: bool = False) -> list[Result]:
    base = 1 if quick else 10
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(10_000, 50, 100)
    results: list[Result] = []
    price_database.load()  # as serve does before it listens: not a cost of the first load
    try:
        for name, unit, measure, loads in (
            ("journal replay, events", "s", _replay, (1_000 * base, 10_000 * base, 100_000 * base)),
            ("snapshot, series", "s", _snapshot, (2_000, 20_000, 200_000)),
            ("announced commits taken and added, held", "s", _announced, (2_000, 20_000, 200_000)),
            ("/metrics render, series", "s", _render, (2_000, 20_000, 200_000)),
            (
                "OTLP ingest in-process, spans",
                "s",
                _otlp,
                (5_000, 50_000, 200_000) if quick else (10_000, 100_000, 1_000_000),
            ),
        ):
            values = [measure(load) for load in loads]
            for load, value in zip(loads, values, strict=True):
                results.append(
                    Result(
                        f"{name} {load:,} vs {loads[0]:,} scaled linearly",
                        value,
                        values[0] * load / loads[0],
                        unit,
                        "",
                        None,
                    )
                )
            results.append(_exponent(name, loads, values))
        loads = (1_000, 10_000, 100_000)
        figures = [_hot_path(records) for records in loads]
        for records, (ours, theirs, histograms) in zip(loads, figures, strict=True):
            results.append(
                Result(
                    f"token record + its fold, {records:,} per scrape over 100 label sets, "
                    "vs prometheus_client's cached children",
                    ours * 1e6,
                    theirs * 1e6,
                    "us",
                    "<= 0.5x",
                    ours <= 0.5 * theirs,
                )
            )
            results.append(
                Result(
                    f"  the same, {records:,} per scrape, vs prometheus_client's children "
                    "and the two token histograms",
                    ours * 1e6,
                    histograms * 1e6,
                    "us",
                    "",
                    None,
                )
            )
        results.append(
            _exponent("token record + its fold, per record", loads, [f[0] for f in figures])
        )
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
    return results
