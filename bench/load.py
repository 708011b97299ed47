"""Concurrent clients against a running exporter: scrapes of /metrics and ingest
batches to /v1/events, bounded in time, on loopback only."""

from __future__ import annotations

import http.client
import json
import threading
import time
from dataclasses import dataclass, field


@dataclass
class LoadReport:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"metrics": [], "ingest": []})
    errors: list[str] = field(default_factory=list)
    events_sent: int = 0

    def p99(self, kind: str) -> float:
        values = sorted(self.latencies[kind])
        return values[max(0, int(len(values) * 0.99) - 1)] if values else float("nan")

    def count(self, kind: str) -> int:
        return len(self.latencies[kind])


def run_load(
    port: int, token: str, seconds: float, scrapers: int, writers: int, batch: int = 20
) -> LoadReport:
    """Hammer the exporter for ``seconds``; every request's latency and any error."""
    report = LoadReport()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    body = json.dumps(
        [
            {
                "type": "tokens_used",
                "persona": f"load-{i % 10}",
                "model": "gpt-4o",
                "input_tokens": 10,
                "output_tokens": 2,
            }
            for i in range(batch)
        ]
    ).encode()

    def one(kind: str, method: str, path: str, payload: bytes | None, headers: dict) -> None:
        start = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(method, path, body=payload, headers=headers)
            response = conn.getresponse()
            response.read()
            conn.close()
            expected = 202 if kind == "ingest" else 200
            if response.status != expected:
                raise RuntimeError(f"{kind}: HTTP {response.status}")
        except Exception as exc:
            with lock:
                report.errors.append(repr(exc))
            return
        elapsed = time.perf_counter() - start
        with lock:
            report.latencies[kind].append(elapsed)
            if kind == "ingest":
                report.events_sent += batch

    def scraper() -> None:
        while time.monotonic() < deadline:
            one("metrics", "GET", "/metrics", None, {})

    def writer() -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        while time.monotonic() < deadline:
            one("ingest", "POST", "/v1/events", body, headers)

    threads = [threading.Thread(target=scraper) for _ in range(scrapers)]
    threads += [threading.Thread(target=writer) for _ in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    return report
