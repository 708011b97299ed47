"""Worker processes that decode and map large OTLP trace exports on other cores.

Decoding an export and mapping its spans to events (``span_mapping``) is
most of what a span costs, and needs no shared state. Deciding which nested
spans count (``model.lineage``), the journal append and the fold do need it,
and stay in this process, one request at a time. So a large export goes to a
worker, which sends back the mapped spans without their attributes
(``MappedSpans.slim``), and this process records them. One function maps in
both places, so the counts are the same whichever process mapped.

Why not worker processes that each own a share of the connections, as
servers scale out: a trace's spans arrive in separate exports, which would
then land in separate processes, and counting nested spans once needs every
span's parent in one table. Sending bodies to the workers and their events
back keeps that table, and the journal's one writer, where they are.

The pool starts with the first large export, so an exporter that never gets
one holds no workers. Until a worker has started, exports are mapped here.
An export is mapped here too when the pool broke (a worker was killed): the
next large export starts a new pool, up to ``MAX_RESTARTS`` times.

Workers are spawned, as ``multiprocessing`` spawns: each imports the
program's main module again, which the CLI's entry points are made for (a
program of its own that serves ingest must guard its start-up).
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from typing import TYPE_CHECKING, Any

from ..model.cores import cores
from ..model.genai import SpanMapping
from . import otlp
from .span_mapping import MappedSpans, map_export, map_export_slim

if TYPE_CHECKING:
    from concurrent.futures import Future, ProcessPoolExecutor

log = logging.getLogger(__name__)

#: Exports smaller than this are mapped here: a worker's round trip (about
#: a millisecond) would cost more than it saves. About 60 GenAI spans of a few
#: attributes (about 270 bytes each), fewer from a library that sends many.
MIN_BYTES = 16 * 1024
#: Pools started again after one broke, at most; then every export is mapped here.
MAX_RESTARTS = 3
#: Workers ``auto`` starts on two cores or more (``default_workers``).
AUTO_WORKERS = 2
#: How often a worker looks whether its exporter still runs.
ORPHAN_CHECK_SECONDS = 1.0


def default_workers() -> int:
    """``otlp.workers: auto``: two workers on two cores or more, none on
    one, where they would only take turns with ``serve``. More buy nothing:
    ``serve``, recording what they map, is the limit (a worker maps a span
    in about the time ``serve`` records one), and each holds memory."""
    count = cores()
    return min(count, AUTO_WORKERS) if count >= 2 else 0


def _started(parent: int) -> None:
    """A worker's set-up. Ctrl-C at the terminal reaches the whole process
    group, and the exporter stops its workers itself. A worker whose
    exporter was killed exits: it would wait for work forever (it holds its
    work queue's both ends, so it never reads an end of file)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(parent,), daemon=True).start()
    otlp.decode(b"", otlp.PROTOBUF)  # imports the protobuf classes before the first export


def _exit_with(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_SECONDS)
    os._exit(0)


class MappingPool:
    """Decodes and maps exports, large ones in worker processes."""

    def __init__(self, workers: int, mapping: SpanMapping, min_bytes: int = MIN_BYTES):
        self.workers = workers
        self.mapping = mapping
        self.min_bytes = min_bytes
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        #: Done when a worker has started (``_started`` ran).
        self._ready: Future[Any] | None = None
        self._restarts = 0
        #: Exports mapped by a worker: read by the tests and the benchmark.
        self.mapped_by_workers = 0

    def __call__(self, body: bytes, kind: str, received: float) -> MappedSpans:
        """An export's spans mapped to events: by a worker when the export is
        large and the workers have started, else here. ``EventError`` (code
        ``malformed``) when the body as a whole cannot be read."""
        pool = self._take(len(body))
        if pool is not None:
            from concurrent.futures.process import BrokenProcessPool

            future: Future[MappedSpans] | None = None
            try:
                future = pool.submit(map_export_slim, body, kind, self.mapping, received)
                mapped = future.result()  # what the worker raised is raised here
            except BrokenProcessPool as exc:  # a worker died
                self._broke(pool, exc)
            except RuntimeError as exc:
                if future is not None:  # raised by the mapping: as if it were here
                    raise
                self._broke(pool, exc)  # the pool was shut down meanwhile
            else:
                with self._lock:  # handler threads count at once
                    self.mapped_by_workers += 1
                return mapped
        return map_export(body, kind, self.mapping, received)

    def started(self, timeout: float) -> int | None:
        """Start the workers if they have not started, and wait up to
        ``timeout`` seconds for one; its process id, or ``None`` (no workers,
        or none started in time)."""
        with self._lock:
            if self._pool is None:
                self._start()
            ready = self._ready
        if ready is None:
            return None
        try:
            return int(ready.result(timeout))
        except Exception:  # not started in time, or broken: none
            return None

    def _take(self, size: int) -> ProcessPoolExecutor | None:
        """The pool, if the export should go to it. An export waits there for a
        free worker rather than be mapped here: when every worker is busy,
        this process is too, recording what they mapped."""
        if self.workers <= 0 or size < self.min_bytes:
            return None
        with self._lock:
            if self._pool is None:
                self._start()
                return None
            if self._ready is None or not self._ready.done():
                return None
            return self._pool

    def _start(self) -> None:
        """Start the pool (under ``_lock``), unless there are to be no
        workers or it broke too often; its workers start meanwhile."""
        if self.workers <= 0 or self._restarts > MAX_RESTARTS:
            return
        # Here, not at import: an exporter that gets no large export never needs them.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        try:
            self._pool = ProcessPoolExecutor(
                self.workers,
                multiprocessing.get_context("spawn"),
                initializer=_started,
                initargs=(os.getpid(),),
            )
            self._ready = self._pool.submit(os.getpid)
        except (OSError, RuntimeError) as exc:
            log.error("cannot start OTLP mapping workers, mapping here: %s", exc)
            self._restarts = MAX_RESTARTS + 1
            return
        log.info("mapping large OTLP exports in %d worker processes", self.workers)

    def _broke(self, pool: ProcessPoolExecutor, exc: BaseException) -> None:
        """A worker died, or the pool was shut down: drop it; the next large
        export starts another (``MAX_RESTARTS`` at most)."""
        with self._lock:
            if self._pool is not pool:
                return
            self._pool, self._ready = None, None
            self._restarts += 1
        pool.shutdown(wait=False, cancel_futures=True)
        given_up = self._restarts > MAX_RESTARTS
        log.warning(
            "OTLP mapping workers failed (%s); %s",
            exc or type(exc).__name__,
            "mapping every export here from now on" if given_up else "starting new ones",
        )

    def close(self) -> None:
        """Stop the workers (an export they map meanwhile is mapped here)."""
        with self._lock:
            pool, self._pool, self._ready = self._pool, None, None
            self._restarts = MAX_RESTARTS + 1
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


__all__ = [
    "AUTO_WORKERS",
    "MAX_RESTARTS",
    "MIN_BYTES",
    "MappingPool",
    "default_workers",
]
