"""What a hypertool exporter costs the Prometheus that scrapes it: head-block
memory per series, measured on a real Prometheus (Debian's) scraping an
exporter with 10,000 token series (``--quick``: 2,000), against the same
Prometheus scraping an empty exporter. docs/scaling.md turns the figure into
the cost of 10, 100 and 1,000 hosts.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from common import Result
from harness.support import (
    ExporterProcess,
    PrometheusProcess,
    http_get,
    rss_bytes_of,
    samples,
    wait_for,
)

from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model.events import TokensUsed

SCRAPES = 30


def _journal(path: Path, token_series: int) -> None:
    """Tokens for ``token_series`` (persona, chat mode, model, input/output) series."""
    now = time.time()
    events = []
    for index in range(token_series // 2):
        persona, rest = divmod(index, 100)
        chatmode, model = divmod(rest, 10)
        events.append(
            TokensUsed(f"persona-{persona}", f"model-{model}", 10, 5, f"mode-{chatmode}", now)
        )
    with Journal(path) as journal:
        for start in range(0, len(events), 5000):
            journal.append(events[start : start + 5000])


def _measure(workdir: Path, token_series: int) -> tuple[float, float]:
    """(head series, Prometheus RSS bytes) after ``SCRAPES`` one-second scrapes."""
    workdir.mkdir(parents=True, exist_ok=True)
    journal = workdir / "journal.sqlite"
    if token_series:
        _journal(journal, token_series)
    config = workdir / "budgets.yml"
    config.write_text("limits: {max_label_values: 100000}\n")
    exporter = ExporterProcess(journal, config, ready_timeout=120)
    prometheus = PrometheusProcess(
        workdir / "prom",
        {
            "global": {"scrape_interval": "1s"},
            "scrape_configs": [
                {
                    "job_name": "hypertool",
                    "static_configs": [{"targets": [f"127.0.0.1:{exporter.port}"]}],
                }
            ],
        },
    )
    try:
        wait_for(  # a fixed number of successful scrapes: the same workload for both
            lambda: prometheus.query(f'count_over_time(up{{job="hypertool"}}[10m]) >= {SCRAPES}'),
            timeout=SCRAPES * 4,
            what=f"{SCRAPES} scrapes",
        )
        own = samples(http_get(f"http://127.0.0.1:{prometheus.port}/metrics")[1])
        return own[("prometheus_tsdb_head_series", ())], float(rss_bytes_of(prometheus.proc.pid))
    finally:
        prometheus.stop()
        exporter.stop()


def run(quick: bool = False) -> list[Result]:
    token_series = 2_000 if quick else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        empty = _measure(Path(tmp) / "empty", 0)
        full = _measure(Path(tmp) / "full", token_series)
    series = full[0] - empty[0]
    per_series = (full[1] - empty[1]) / series if series > 0 else float("nan")
    return [
        Result(
            f"Prometheus head memory per exporter series ({series:,.0f} series, {SCRAPES} scrapes)",
            per_series,
            per_series,
            "B",
            "(reported)",
            None,
        )
    ]
