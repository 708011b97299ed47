"""Open connections, bounded in total and per source, and shed fairly.

Each connection holds a thread and a file descriptor until its client is
done with it. A client that opens many and sends nothing (slowloris) would
otherwise take them all: past the process's file limit the accept loop
fails on every turn and pins a core, and ``/metrics`` and ``/healthz`` time
out for everyone.

So a connection is *idle* until its request's head has been read, and
again between requests; *busy* while a request is answered. When a new
connection would pass the limit of its source or the total, the oldest
idle connection of its own source (over the source limit), or of the
source holding the most (over the total), is shut to make room. A busy
connection is never cut mid-request; when none can be shut, the new one is
refused. So a flood from one source sheds its own oldest connections, and
a scraper from another source, or a fresh connection that sends its
request at once, gets in past it.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
from collections import OrderedDict

#: Most connections open at once, when the file limit allows it.
MAX_CONNECTIONS = 512
#: File descriptors kept free for everything else: the journal, logs, the
#: listening socket, a helper process's pipes.
SPARE_FILES = 64


def default_limit() -> int:
    """``MAX_CONNECTIONS``, or fewer: half of what the file limit leaves free."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(8, min(MAX_CONNECTIONS, (soft - SPARE_FILES) // 2))


class Connections:
    """The open connections of one server, by source address."""

    def __init__(self, total: int | None = None, per_source: int | None = None):
        self.total = default_limit() if total is None else total
        #: A quarter of the total: a few sources can each fill their share.
        self.per_source = max(1, self.total // 4) if per_source is None else per_source
        self._lock = threading.Lock()
        #: source -> its connections, oldest first -> busy?
        self._open: dict[str, OrderedDict[socket.socket, bool]] = {}
        #: connection -> its source
        self._source: dict[socket.socket, str] = {}
        #: Connections shut to make room, and refused.
        self.shed = 0
        self.refused = 0

    def __len__(self) -> int:
        return len(self._source)

    def admit(self, conn: socket.socket, source: str) -> bool:
        """Take ``conn`` in, shutting an idle one to make room if needed;
        ``False``: no room (the caller closes it)."""
        with self._lock:
            mine = self._open.get(source)
            full = mine is not None and len(mine) >= self.per_source
            victim = None
            if mine is not None and full:
                victim = self._oldest_idle(mine)
            elif len(self._source) >= self.total:
                victim, full = self._idle_of_the_largest(), True
            if full and victim is None:
                self.refused += 1
                return False
            if victim is not None:
                self._forget(victim)
                self.shed += 1
            self._open.setdefault(source, OrderedDict())[conn] = False
            self._source[conn] = source
        if victim is not None:
            _shut(victim)
        return True

    def busy(self, conn: socket.socket) -> None:
        """``conn`` has sent a request's head: not to be shed until answered."""
        self._mark(conn, True)

    def idle(self, conn: socket.socket) -> None:
        """``conn`` is waiting for its next request."""
        self._mark(conn, False)

    def release(self, conn: socket.socket) -> None:
        """``conn`` is closed (a shed one was forgotten already)."""
        with self._lock:
            self._forget(conn)

    def shed_one(self) -> bool:
        """Shut the oldest idle connection of the largest source (the accept
        loop's answer to running out of file descriptors)."""
        with self._lock:
            victim = self._idle_of_the_largest()
            if victim is None:
                return False
            self._forget(victim)
            self.shed += 1
        _shut(victim)
        return True

    def _mark(self, conn: socket.socket, busy: bool) -> None:
        with self._lock:
            source = self._source.get(conn)
            if source is not None:
                self._open[source][conn] = busy

    def _oldest_idle(self, mine: OrderedDict[socket.socket, bool]) -> socket.socket | None:
        return next((conn for conn, busy in mine.items() if not busy), None)

    def _idle_of_the_largest(self) -> socket.socket | None:
        for mine in sorted(self._open.values(), key=len, reverse=True):
            victim = self._oldest_idle(mine)
            if victim is not None:
                return victim
        return None

    def _forget(self, conn: socket.socket) -> None:
        source = self._source.pop(conn, None)
        if source is not None:
            mine = self._open[source]
            del mine[conn]
            if not mine:
                del self._open[source]


def _shut(conn: socket.socket) -> None:
    """Wake the thread reading ``conn``: its read ends, and so does the connection."""
    with contextlib.suppress(OSError):
        # The plain socket's shutdown, also under TLS: the reading thread
        # owns the TLS state, and ends it itself.
        socket.socket.shutdown(conn, socket.SHUT_RDWR)


__all__ = ["MAX_CONNECTIONS", "SPARE_FILES", "Connections", "default_limit"]
