"""Load test on loopback: /metrics and /v1/events under concurrent clients.

Eight scrapers and eight ingest writers (batches of 20 events) for 20 s
against ``serve``; p99 latency of each endpoint against its median in the
same run, and the error count (target: zero).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from common import Result
from harness.support import ExporterProcess
from load import run_load

TOKEN = "load-test-token-0123456789"


def run(quick: bool = False) -> list[Result]:
    seconds = 5 if quick else 20
    with tempfile.TemporaryDirectory() as tmp:
        serve = ExporterProcess(
            Path(tmp) / "journal.sqlite",
            env={"HYPERTOOL_INGEST_TOKEN": TOKEN},
            ready_timeout=120,
        )
        try:
            report = run_load(serve.port, TOKEN, seconds, scrapers=8, writers=8)
        finally:
            serve.stop()
    results = []
    for kind in ("metrics", "ingest"):
        values = report.latencies[kind]
        results.append(
            Result(
                f"load {seconds} s, 8+8 clients: {kind} p99 vs median ({len(values)} requests)",
                report.p99(kind),
                statistics.median(values),
                "s",
                "0 errors",
                not report.errors,
            )
        )
    results.append(
        Result(
            "load: errors / requests",
            len(report.errors),
            report.count("metrics") + report.count("ingest"),
            "",
            "0",
            not report.errors,
        )
    )
    return results
