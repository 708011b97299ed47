"""``hypertool-exporter serve``: fold the journal, serve HTTP, stop cleanly.

Wires the pieces together: config -> state -> tailer (restore snapshot,
catch up) -> registry -> HTTP server. SIGTERM and SIGINT stop it with a
final snapshot, so the next start replays almost nothing.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

from prometheus_client import GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.registry import CollectorRegistry

from .exposition.snapshot import StateCollector
from .exposition.textformat import FastExposition
from .fold.state import MetricState
from .http.server import ExporterHTTPServer
from .http.webconfig import WebConfig
from .journal.store import JournalError, default_journal_path
from .journal.tailer import JournalTailer
from .journal.writer import JournalWriter
from .model.config import Config

log = logging.getLogger("hypertool_exporter")


def build_exposition(state: MetricState) -> tuple[CollectorRegistry, FastExposition]:
    """A private registry with the state collector and the standard process
    metrics, and the fast renderer ``/metrics`` serves it with."""
    registry = CollectorRegistry()
    state_collector = StateCollector(state)
    registry.register(state_collector)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry, FastExposition(state, registry, state_collector)


def _clock():
    """Wall clock, shifted by ``HYPERTOOL_CLOCK_OFFSET_SECONDS`` when set.

    The offset moves the exporter's idea of "now" (budget periods and their
    resets) without touching the machine's clock: the end-to-end tests use it
    to watch a budget period roll over within seconds.
    """
    raw = os.environ.get("HYPERTOOL_CLOCK_OFFSET_SECONDS")
    if not raw:
        return time.time
    try:
        offset = float(raw)
    except ValueError:
        raise SystemExit(
            f"hypertool-exporter: error: HYPERTOOL_CLOCK_OFFSET_SECONDS: must be a number of "
            f"seconds (got {raw!r})"
        ) from None
    return lambda: time.time() + offset


def run_server(
    config: Config,
    host: str,
    port: int,
    journal: str | None,
    log_level: str = "info",
    *,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
    web: WebConfig | None = None,
) -> int:
    """Run until SIGTERM/SIGINT (or ``stop`` is set). Returns the exit code."""
    logging.basicConfig(
        level=log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    path = Path(journal) if journal else default_journal_path()
    state = MetricState(config, clock=_clock())
    tailer = JournalTailer(
        state,
        path,
        snapshot_interval=config.snapshot_interval,
        retention_days=config.retention_days,
    )
    try:
        tailer.open()
        tailer.catch_up()
    except JournalError as exc:
        # Serve anyway: /metrics reports the broken journal
        # (hypertool_exporter_journal_up 0) and the tailer keeps retrying.
        log.error("journal unusable, serving without it and retrying: %s", exc)
        tailer.mark_down()
    token = os.environ.get("HYPERTOOL_INGEST_TOKEN") or config.ingest_token
    # Opened on first use, so a journal broken at start-up does not stop serving.
    ingest = JournalWriter(path)
    try:
        registry, exposition = build_exposition(state)
        server = ExporterHTTPServer(
            (host, port),
            registry,
            exposition=exposition,
            ingest=ingest,
            reject=state.reject,
            ingest_token=token,
            web=web,
        )
    except OSError as exc:
        log.error("cannot listen on %s:%s: %s", host, port, exc.strerror)
        return 1
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    tailer.start()
    server.start_in_thread()
    log.info(
        "serving %s://%s:%d/metrics from journal %s (ingest %s)",
        server.scheme,
        host,
        server.port,
        path,
        "enabled" if token else "disabled",
    )
    if ready is not None:
        ready.set()
    stop.wait()
    log.info("stopping")
    server.shutdown()
    server.server_close()
    tailer.stop()
    ingest.close()
    return 0
