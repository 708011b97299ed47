"""A threading HTTP server whose connections are bounded (``http.connections``).

The standard library's ``ThreadingHTTPServer`` with what an exporter on a
shared network needs underneath its endpoints: each connection admitted
within the bounds or refused, idle ones shed to make room, an accept loop
that survives running out of file descriptors, TLS handshakes in the
connection's own thread, and no HTTP/0.9.
"""

from __future__ import annotations

import errno
import logging
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .connections import Connections
from .ingest import read_body

log = logging.getLogger(__name__)

#: Seconds the accept loop waits when out of file descriptors with nothing to shed.
ACCEPT_PAUSE = 0.05


class Listener(ThreadingHTTPServer):
    """Serves ``handler`` on ``address``, a thread per admitted connection."""

    daemon_threads = True
    allow_reuse_address = True
    #: Listen backlog; the stdlib's 5 drops connections under bursts of
    #: concurrent scrapes and ingest clients (clients then wait 1 s to retry).
    #: Waiting connections hold no file descriptor of ours until accepted.
    request_queue_size = 1024

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        *,
        ssl_context: ssl.SSLContext | None = None,
        connections: Connections | None = None,
    ):
        #: Open connections, bounded in total and per source.
        self.connections = connections or Connections()
        self.ssl_context = ssl_context
        super().__init__(address, handler)
        if ssl_context is not None:
            # The handshake runs in each connection's thread, on its first
            # read, so a slow client cannot hold up the accept loop.
            self.socket = ssl_context.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_context is not None else "http"

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start_in_thread(self) -> threading.Thread:
        """Serve in a daemon thread; returns it."""
        thread = threading.Thread(target=self.serve_forever, name="metrics-http", daemon=True)
        thread.start()
        return thread

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Admit a new connection within the bounds (``False``: closed at once)."""
        return self.connections.admit(request, client_address[0])

    def shutdown_request(self, request: Any) -> None:
        self.connections.release(request)
        super().shutdown_request(request)

    def get_request(self) -> tuple[Any, Any]:
        """Accept; when the process is out of file descriptors, shed an idle
        connection (or pause) rather than fail on every turn of the loop."""
        try:
            return super().get_request()
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                log.warning("out of file descriptors: shedding an idle connection")
                if not self.connections.shed_one():
                    time.sleep(ACCEPT_PAUSE)  # every connection busy: let them finish
            raise

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed outside a request (a shed one, say): one
        debug line, not a traceback on stderr."""
        log.debug("connection from %s ended", client_address[0], exc_info=True)


class ConnectionHandler(BaseHTTPRequestHandler):
    """Marks its connection busy from a request's head to its answer, so it
    is never shed mid-request, and refuses HTTP/0.9.

    Speaks HTTP/1.1: a connection serves request after request (keep-alive),
    as scrapers and OTLP exporters expect; a new connection and thread for
    each request cost ``serve`` a tenth of its CPU under OTLP load. An
    answer given before its request's body was read (``body_read``) closes
    the connection: the unread body would be taken for the next request.
    """

    server: Listener
    protocol_version = "HTTP/1.1"
    #: Seconds a connection may stay silent (slow or stuck clients).
    timeout = 30
    #: Whether the request's body was read (by whoever read it): set there.
    body_read = False
    #: The status of the answer being sent (``100`` before a body is sent).
    status_sent = 0

    def handle(self) -> None:
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
            log.debug("connection from %s dropped: %s", self.client_address[0], exc)

    def handle_one_request(self) -> None:
        self.body_read = False
        try:
            super().handle_one_request()
        finally:
            self.server.connections.idle(self.connection)

    def body(self) -> bytes:
        """The request's body (``ingest.read_body``: ``BadRequest`` when its
        framing is refused); once read, the connection may serve the next
        request."""
        raw = read_body(self.headers, self.rfile)
        self.body_read = True
        return raw

    def send_response_only(self, code: int, message: str | None = None) -> None:
        self.status_sent = code
        super().send_response_only(code, message)

    def end_headers(self) -> None:
        """Close after this answer if the request announced a body not read
        (not after ``100 Continue``, which asks for the body)."""
        headers = getattr(self, "headers", None)  # none: the request line was refused
        final = self.status_sent >= 200
        if final and not self.close_connection and not self.body_read and headers is not None:
            length = headers.get("Content-Length")
            if headers.get("Transfer-Encoding") is not None or (
                length is not None and length.strip() != "0"
            ):
                self.send_header("Connection", "close")  # which sets close_connection
        super().end_headers()

    def parse_request(self) -> bool:
        """The standard library's parsing, without HTTP/0.9: a request line it
        would take for 0.9 (no version) gets a 400 with a status line."""
        if not super().parse_request():
            return False
        if self.request_version == "HTTP/0.9":
            self.send_error(400, "HTTP/0.9 requests are not supported")
            return False
        self.server.connections.busy(self.connection)
        return True


__all__ = ["ACCEPT_PAUSE", "ConnectionHandler", "Listener"]
