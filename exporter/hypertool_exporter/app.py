"""The one assembly: config -> state -> (journal tailer) -> registry -> ``/metrics``.

``hypertool-exporter serve`` (``run_server``), ``demo`` and
``PersonaMetricsCollector.serve()`` all build their exporter here, so what a
scrape shows does not depend on how the exporter was started. ``run_server``
adds the daemon's life cycle: logging, HTTP ingest into the journal, SIGTERM
and SIGINT with a final snapshot, so the next start replays almost nothing.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from prometheus_client import GCCollector, PlatformCollector, ProcessCollector
from prometheus_client.registry import CollectorRegistry

from .exposition.snapshot import StateCollector
from .exposition.statuspage import SPARKLINE_DAYS, StatusPage
from .exposition.textformat import FastExposition
from .fold.state import MetricState
from .http.server import ExporterHTTPServer, Ingest
from .http.webconfig import WebConfig
from .journal.store import JournalError, default_journal_path
from .journal.writer import JournalWriter
from .model.budget_check import BudgetCheck, check
from .model.config import MIN_TOKEN_LENGTH, Config
from .sync.budget_desk import BudgetDesk
from .sync.spend import JournalSpend
from .sync.tailer import JournalTailer

log = logging.getLogger("hypertool_exporter")

#: Port registered for this exporter in Prometheus' default port allocations.
DEFAULT_PORT = 9464


class Exporter:
    """One exporter's parts, wired once: the fold's state, an optional tailer
    that follows a journal into it, a registry holding the state's collector,
    and the fast renderer ``/metrics`` serves.

    ``registry``: given, it is the caller's (prometheus_client's default one
    already carries the process metrics); otherwise a private registry gets
    the state collector and the standard process, platform and GC collectors.
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        registry: CollectorRegistry | None = None,
        journal: str | Path | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.config = config or Config()
        self.state = MetricState(self.config, clock)
        self.tailer = (
            JournalTailer(
                self.state,
                journal,
                snapshot_interval=self.config.snapshot_interval,
                retention_days=self.config.retention_days,
            )
            if journal is not None
            else None
        )
        #: Appends and budget reservations into the journal, one connection
        #: for the process (HTTP ingest, a journalled collector); opened on
        #: first use, so a journal broken at start-up does not stop serving.
        self.writer = (
            JournalWriter(
                journal,
                on_commit=self.tailer.expect,
                on_error=self.tailer.write_failed,
                on_success=self.tailer.write_succeeded,
                fsync=self.config.durability == "power",
            )
            if journal is not None and self.tailer is not None
            else None
        )
        #: Budget checks and reservations from the journal (``None``: from the fold).
        self.desk = BudgetDesk(self.writer, self.config, clock) if self.writer is not None else None
        self.state_collector = StateCollector(
            self.state, self.tailer.status if self.tailer is not None else None
        )
        if registry is None:
            registry = CollectorRegistry()
            ProcessCollector(registry=registry)
            PlatformCollector(registry=registry)
            GCCollector(registry=registry)
        self.registry = registry
        registry.register(self.state_collector)
        self.exposition = FastExposition(registry, self.state_collector)
        self.spend = (
            JournalSpend(journal, self.config.prices, SPARKLINE_DAYS)
            if journal is not None
            else None
        )
        self.status_page = StatusPage(self.state, self.config, self.spend)
        self.server: ExporterHTTPServer | None = None

    def catch_up(self) -> None:
        """Restore the journal's snapshot and apply what follows it, now.

        A journal that cannot be used does not stop the exporter: ``/metrics``
        reports it (``hypertool_exporter_journal_up 0``) and the tailer retries.
        """
        assert self.tailer is not None, "no journal to catch up with"
        try:
            self.tailer.open()
            self.tailer.catch_up()
        except JournalError as exc:
            log.error("journal unusable, serving without it and retrying: %s", exc)
            self.tailer.mark_down()

    def serve(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        ingest: Ingest | None = None,
        ingest_token: str | None = None,
        web: WebConfig | None = None,
        langfuse_keys: tuple[str, str] | None = None,
    ) -> ExporterHTTPServer:
        """Serve ``/``, ``/metrics`` and ``/healthz`` (and ingest, when given: events
        and OTLP traces, into the same journal) in a daemon thread; follow the
        journal, if any, in another."""
        if self.server is None:
            spans = None
            if ingest is not None and (ingest_token or langfuse_keys):  # else OTLP answers 404
                # Here, not at import: an exporter without OTLP ingest never loads it.
                from .http.mapping_pool import default_workers
                from .http.spans import SpanIngest

                workers = self.config.otlp_workers
                spans = SpanIngest(
                    ingest,
                    self.config.span_mapping,
                    reject=self.state.reject,
                    clock=self.state.clock,
                    workers=default_workers() if workers is None else workers,
                )
            self.server = ExporterHTTPServer(
                (host, port),
                exposition=self.exposition,
                status_page=self.status_page,
                ingest=ingest,
                reject=self.state.reject,
                ingest_token=ingest_token,
                web=web,
                clock=self.state.clock,
                spans=spans,
                langfuse_keys=langfuse_keys,
                budgets=self.desk,
            )
            self.server.start_in_thread()
            if self.tailer is not None:
                self.tailer.start()
        return self.server

    def check_budget(self, persona: str, tokens: int = 0, usd: float = 0.0) -> BudgetCheck:
        """Whether ``tokens`` and ``usd`` more fit ``persona``'s (validated)
        budget now: from the journal and its live reservations when there is
        one (``sync.budget_desk``), else as the fold stands."""
        if self.desk is not None:
            return self.desk.check(persona, tokens, usd)
        return check(persona, self.state.view(series=False).standing_of(persona), tokens, usd)

    def follow(self) -> None:
        """Follow the journal in a thread without serving (an in-process collector
        whose app serves the registry itself)."""
        if self.tailer is not None:
            self.tailer.start()

    def close(self) -> None:
        """Stop serving, commit what waits, then stop the tailer (which folds
        it and takes a final snapshot)."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            if self.server.spans is not None:
                self.server.spans.close()
            self.server = None
        if self.writer is not None:
            self.writer.close()
        if self.tailer is not None:
            self.tailer.stop()
        if self.spend is not None:
            self.spend.close()


#: How often the serving main thread looks for a signal's handler to run.
_SIGNAL_CHECK_SECONDS = 0.5


def clock_from_env() -> Callable[[], float]:
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


def ingest_credentials(
    config: Config, env: Mapping[str, str]
) -> tuple[str | None, tuple[str, str] | None]:
    """The ingest bearer token and Langfuse key pair: the environment's
    (``HYPERTOOL_INGEST_TOKEN``, ``HYPERTOOL_LANGFUSE_PUBLIC_KEY`` and
    ``_SECRET_KEY``) over the config's. ``ValueError`` naming the variable
    for a secret shorter than ``MIN_TOKEN_LENGTH``, or half a key pair."""
    token = env.get("HYPERTOOL_INGEST_TOKEN") or config.ingest_token
    keys = config.langfuse_keys
    public = env.get("HYPERTOOL_LANGFUSE_PUBLIC_KEY")
    secret = env.get("HYPERTOOL_LANGFUSE_SECRET_KEY")
    if public or secret:
        if not (public and secret):
            raise ValueError(
                "HYPERTOOL_LANGFUSE_PUBLIC_KEY and HYPERTOOL_LANGFUSE_SECRET_KEY go together; "
                "only one is set"
            )
        keys = (public, secret)
    named = {
        "HYPERTOOL_INGEST_TOKEN": token,
        "HYPERTOOL_LANGFUSE_PUBLIC_KEY": public,
        "HYPERTOOL_LANGFUSE_SECRET_KEY": secret,
    }
    for name, value in named.items():
        if value is not None and len(value) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"{name}: must be at least {MIN_TOKEN_LENGTH} characters (got {len(value)})"
            )
    return token, keys


#: Allocations between young-generation collections in ``serve`` (Python's
#: default is 700).
GC_THRESHOLDS = (10_000, 50, 100)


def tune_garbage_collector() -> None:
    """Collect cycles less often in ``serve`` (before the journal is replayed).

    The replay, the fold and the ingest paths allocate small tuples and
    dicts by the hundred thousand a second, almost none in cycles; with the
    defaults the collector ran so often that it took about a tenth of the
    CPU of OTLP ingest. What start-up made is frozen once it is done
    (``gc.freeze`` in ``run_server``): it lives as long as the process does.
    """
    gc.set_threshold(*GC_THRESHOLDS)


class Ready(threading.Event):
    """Set by ``run_server`` once it listens, or once it knows it cannot.
    ``port`` is the port it bound (the one the kernel picked when asked for
    port 0); ``error`` says why it could not listen."""

    port = 0
    error: str | None = None


def run_server(
    config: Config,
    host: str,
    port: int,
    journal: str | None,
    log_level: str = "info",
    *,
    ready: Ready | None = None,
    stop: threading.Event | None = None,
    web: WebConfig | None = None,
) -> int:
    """Run until SIGTERM/SIGINT (or ``stop`` is set). Returns the exit code."""
    logging.basicConfig(
        level=log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        token, langfuse_keys = ingest_credentials(config, os.environ)
    except ValueError as exc:
        log.error("%s; not serving", exc)
        return 2
    path = Path(journal) if journal else Path(default_journal_path())
    tune_garbage_collector()
    exporter = Exporter(config, journal=path, clock=clock_from_env())
    exporter.catch_up()
    exporter.exposition.warm()
    gc.freeze()  # what start-up made (modules, the replayed state) is never walked again
    ingest = exporter.writer
    assert ingest is not None
    try:
        server = exporter.serve(
            host, port, ingest=ingest, ingest_token=token, web=web, langfuse_keys=langfuse_keys
        )
    except OSError as exc:
        message = f"cannot listen on {host}:{port}: {exc.strerror}"
        log.error("%s; pass --port or set HYPERTOOL_PORT (0 picks a free port)", message)
        exporter.close()
        if ready is not None:
            ready.error = message
            ready.set()
        return 1
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    log.info(
        "serving %s://%s:%d/metrics from journal %s (ingest %s); status page %s://%s:%d/",
        server.scheme,
        host,
        server.port,
        path,
        "enabled" if token or langfuse_keys else "disabled",
        server.scheme,
        host,
        server.port,
    )
    if ready is not None:
        ready.port = server.port
        ready.set()
    # Waited in slices: a signal the kernel hands to another thread (any
    # thread may take it) only sets a flag, and a main thread blocked in one
    # endless wait would never run the handler that sets ``stop``.
    while not stop.wait(_SIGNAL_CHECK_SECONDS):
        pass
    log.info("stopping")
    exporter.close()
    return 0


__all__ = [
    "DEFAULT_PORT",
    "Exporter",
    "Ready",
    "clock_from_env",
    "ingest_credentials",
    "run_server",
]
