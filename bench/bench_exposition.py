"""/metrics rendering at 10k and 50k series, and the token-usage hot path.

Rendering: our ``StateRenderer`` (what ``/metrics`` serves) against
prometheus_client's ``generate_latest`` on an equivalent registry: the same
token series (four labels) and cost series (three labels) as counters
(``_created`` series off, so both emit the same samples), measured in the
same run. "10,000 series" counts the token series; the cost series come on top.

Hot path: ``record_token_usage`` (the call's own cost: records wait in their
label set's batch and are folded at scrape time) against
``Counter.labels(...).inc()`` and OTel SDK ``counter.add`` (a reader
attached); the deferred fold is reported per record too (``bench_growth``
times both over 100 label sets).
"""

from __future__ import annotations

import gc
import os
import time

import prometheus_client
from common import Result
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.exposition import generate_latest

from hypertool_exporter.exposition.textformat import StateRenderer
from hypertool_exporter.fold.batches import BATCH_RECORDS
from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.model.config import parse_config

CONFIG = """
budgets:
  default: {tokens: 1000000000, period: monthly}
limits: {max_label_values: 100000}
"""
LABELS = ("persona", "chatmode", "model", "token_type")


def shape(series: int) -> tuple[int, int, int]:
    """personas, chat modes, models giving ``series`` token series (x2 token types)."""
    return {10_000: (25, 20, 10), 50_000: (50, 25, 20)}[series]


def filled(series: int) -> tuple[PersonaMetricsCollector, CollectorRegistry]:
    personas, modes, models = shape(series)
    collector = PersonaMetricsCollector(CollectorRegistry(), config=parse_config(CONFIG))
    registry = CollectorRegistry()
    counter = Counter("hypertool_persona_tokens_used", "tokens", LABELS, registry=registry)
    cost = Counter("hypertool_persona_cost_usd", "cost", LABELS[:3], registry=registry)
    for p in range(personas):
        for m in range(modes):
            for mo in range(models):
                collector.record_token_usage(f"persona-{p}", f"mode-{m}", f"model-{mo}", 10, 5)
                counter.labels(f"persona-{p}", f"mode-{m}", f"model-{mo}", "input").inc(10)
                counter.labels(f"persona-{p}", f"mode-{m}", f"model-{mo}", "output").inc(5)
                cost.labels(f"persona-{p}", f"mode-{m}", f"model-{mo}").inc(0.0)
    collector.state.drain()
    return collector, registry


def best_of(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def rendering(series: int, repeats: int) -> Result:
    collector, registry = filled(series)
    renderer = StateRenderer(collector.state)
    renderer.render(False)  # the first scrape fills the prefix cache
    ours = best_of(lambda: renderer.render(False), repeats)
    theirs = best_of(lambda: generate_latest(registry), repeats)
    return Result(
        f"/metrics render, {series:,} series: generate_latest / ours",
        theirs,
        ours,
        "s",
        ">= 5x",
        theirs / ours >= 5.0,
    )


def hot_path(quick: bool) -> list[Result]:
    """The call, its deferred fold, and the baselines, timed in interleaved
    rounds (best of each), so that a change in machine speed during the run
    hits all of them alike."""
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    # Fewer records than a batch holds (``fold.batches``): the call is timed
    # alone and the fold apart, as a scrape runs it.
    calls = BATCH_RECORDS - 1
    collector = PersonaMetricsCollector(CollectorRegistry(), config=parse_config(CONFIG))
    record = collector.record_token_usage
    record("backend-engineer", "implement", "gpt-4", 600, 250)
    registry = CollectorRegistry()
    counter = Counter("tokens", "", ["persona", "chatmode", "model"], registry=registry)
    # With a reader, as a user runs it: without one the SDK has no storage
    # to aggregate into, and ``add`` does less than a user's would.
    otel_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    otel_counter = otel_provider.get_meter("bench").create_counter("tokens")
    attrs = {"persona": "backend-engineer", "chatmode": "implement", "model": "gpt-4"}

    def batch(fn) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        return (time.perf_counter() - start) / calls

    best = fold = plain = otel = float("inf")
    gc.disable()
    try:
        for _ in range(200 if quick else 600):
            best = min(
                best, batch(lambda: record("backend-engineer", "implement", "gpt-4", 600, 250))
            )
            start = time.perf_counter()
            collector.state.drain()
            fold = min(fold, (time.perf_counter() - start) / calls)
            plain = min(
                plain,
                batch(lambda: counter.labels("backend-engineer", "implement", "gpt-4").inc(850)),
            )
            otel = min(otel, batch(lambda: otel_counter.add(850, attrs)))
    finally:
        gc.enable()
    return [
        Result(
            "record_token_usage vs Counter.labels(3).inc()",
            best * 1e6,
            plain * 1e6,
            "us",
            "<= 0.5x",
            best <= 0.5 * plain,
        ),
        Result(
            "record_token_usage vs OTel SDK counter.add (a reader attached)",
            best * 1e6,
            otel * 1e6,
            "us",
            "",
            None,
        ),
        Result(
            f"deferred fold per record (at scrape, {calls} of a label set) vs labels().inc()",
            fold * 1e6,
            plain * 1e6,
            "us",
            "",
            None,
        ),
        Result(
            "record_token_usage + its deferred fold vs labels().inc()",
            (best + fold) * 1e6,
            plain * 1e6,
            "us",
            "(reported)",
            None,
        ),
    ]


def first_render(series: int) -> list[Result]:
    """The first scrape of a state, with and without ``serve``'s warm-up
    render at start-up (``FastExposition.warm``), whose cost is reported too."""
    collector, registry = filled(series)
    theirs = best_of(lambda: generate_latest(registry), 3)
    cold = StateRenderer(collector.state)
    start = time.perf_counter()
    cold.render(False)
    cold_seconds = time.perf_counter() - start
    warmed = StateRenderer(collector.state)
    start = time.perf_counter()
    warmed.render(False)  # what ``warm`` runs, before serve listens
    warm_seconds = time.perf_counter() - start
    start = time.perf_counter()
    warmed.render(False)
    first = time.perf_counter() - start
    return [
        Result(
            f"first /metrics render, cold, {series:,} series: generate_latest / ours",
            theirs,
            cold_seconds,
            "s",
            "(reported)",
            None,
        ),
        Result(
            f"first scrape after serve's warm-up, {series:,} series: generate_latest / ours",
            theirs,
            first,
            "s",
            ">= 5x",
            theirs / first >= 5.0,
        ),
        Result(
            f"serve's warm-up render at start-up, {series:,} series, vs generate_latest",
            warm_seconds,
            theirs,
            "s",
            "(start-up cost)",
            None,
        ),
    ]


def run(quick: bool = False) -> list[Result]:
    prometheus_client.disable_created_metrics()
    results = hot_path(quick)
    for series in (10_000,) if quick else (10_000, 50_000):
        results.append(rendering(series, 3 if quick else 5))
        results.extend(first_render(series))
    return results


if __name__ == "__main__":  # pragma: no cover
    from common import table

    print(table(run(quick=os.environ.get("QUICK") == "1")))
