"""HTTP endpoints: ``/`` status page, ``/metrics``, ``/healthz`` and ``POST /v1/events``.

Built on the stdlib's threading HTTP server, with prometheus_client's own
content negotiation so ``/metrics`` speaks the Prometheus text format or
OpenMetrics as the scraper's Accept header asks.
"""

from __future__ import annotations

import gzip
import hmac
import json
import logging
import ssl
import threading
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client.exposition import choose_encoder

from .._version import __version__
from ..exposition.statuspage import CONTENT_SECURITY_POLICY, StatusPage
from ..exposition.textformat import OPENMETRICS_CONTENT_TYPE, FastExposition
from ..model.events import Event, parse_event
from ..model.fields import MALFORMED, EventError
from .webconfig import WebConfig

log = logging.getLogger(__name__)

#: Largest ingest request body accepted.
MAX_INGEST_BYTES = 8 * 1024 * 1024
#: Most events accepted in one ingest batch.
MAX_BATCH = 10_000


Ingest = Callable[[Sequence[Event]], None]
Reject = Callable[[str], None]


class ExporterHTTPServer(ThreadingHTTPServer):
    """The exporter's endpoints on one address; a thread per connection."""

    daemon_threads = True
    allow_reuse_address = True
    #: Listen backlog; the stdlib's 5 drops connections under bursts of
    #: concurrent scrapes and ingest clients (clients then wait 1 s to retry).
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        *,
        exposition: FastExposition,
        status_page: StatusPage,
        ingest: Ingest | None = None,
        reject: Reject | None = None,
        ingest_token: str | None = None,
        web: WebConfig | None = None,
    ):
        self.exposition = exposition
        self.status_page = status_page
        self.ingest = ingest
        self.reject = reject
        self.ingest_token = ingest_token
        self.web = web or WebConfig()
        super().__init__(address, _Handler)
        if self.web.ssl_context is not None:
            # The handshake runs in each request's thread, on its first read,
            # so a slow client cannot hold up the accept loop.
            self.socket = self.web.ssl_context.wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )

    @property
    def scheme(self) -> str:
        return "https" if self.web.ssl_context is not None else "http"

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start_in_thread(self) -> threading.Thread:
        """Serve in a daemon thread; returns it."""
        thread = threading.Thread(target=self.serve_forever, name="metrics-http", daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: ExporterHTTPServer
    server_version = f"hypertool-exporter/{__version__}"
    #: Seconds a connection may stay silent (slow or stuck clients).
    timeout = 30

    def handle(self) -> None:
        try:
            super().handle()
        except (ssl.SSLError, ConnectionError, TimeoutError) as exc:
            log.debug("connection from %s dropped: %s", self.client_address[0], exc)

    def _authorized(self) -> bool:
        """Basic auth (web config), except for /healthz and ingest, which has its token."""
        path = self.path.split("?", 1)[0]
        if path == "/healthz" or (self.command == "POST" and path == "/v1/events"):
            return True
        if self.server.web.check_basic_auth(self.headers.get("Authorization")):
            return True
        self._send(
            401,
            b"unauthorized\n",
            "text/plain; charset=utf-8",
            {"WWW-Authenticate": 'Basic realm="hypertool-exporter"'},
        )
        return False

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str, headers: dict | None = None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        for key, value in self.server.web.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        self._send(status, body, "application/json", headers)

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        if not self._authorized():
            return
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._metrics()
        elif path == "/healthz":
            self._send(200, b"ok\n", "text/plain; charset=utf-8")
        elif path == "/":
            body = self.server.status_page.render().encode()
            self._send(
                200,
                body,
                "text/html; charset=utf-8",
                {
                    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                    "X-Content-Type-Options": "nosniff",
                    "Referrer-Policy": "no-referrer",
                    "Cache-Control": "no-store",
                },
            )
        else:
            self._send(404, b"not found\n", "text/plain; charset=utf-8")

    def _metrics(self) -> None:
        _, negotiated = choose_encoder(self.headers.get("Accept", ""))
        openmetrics = negotiated.split(";")[0] == OPENMETRICS_CONTENT_TYPE.split(";")[0]
        body, content_type = self.server.exposition.render(openmetrics)
        headers = {}
        if "gzip" in self.headers.get("Accept-Encoding", ""):
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        self._send(200, body, content_type, headers)

    def do_POST(self) -> None:
        if not self._authorized():
            return
        if self.path.split("?", 1)[0] != "/v1/events":
            self._send(404, b"not found\n", "text/plain; charset=utf-8")
            return
        server = self.server
        if server.ingest is None or not server.ingest_token:
            self._json(
                404, {"error": "ingest is disabled: set ingest.token or HYPERTOOL_INGEST_TOKEN"}
            )
            return
        supplied = self.headers.get("Authorization", "")
        expected = f"Bearer {server.ingest_token}"
        if not hmac.compare_digest(supplied.encode(), expected.encode()):
            self._json(
                401,
                {"error": "missing or wrong bearer token"},
                {"WWW-Authenticate": 'Bearer realm="hypertool-exporter"'},
            )
            return
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._json(411, {"error": "Content-Length is required"})
            return
        if length > MAX_INGEST_BYTES:
            self._json(413, {"error": f"body larger than {MAX_INGEST_BYTES} bytes"})
            return
        raw = self.rfile.read(length)
        try:
            events = self._parse_batch(raw)
        except EventError as exc:
            if server.reject is not None:
                server.reject(exc.code)
            self._json(400, {"error": str(exc), "field": exc.field, "value": _jsonable(exc.value)})
            return
        try:
            server.ingest(events)
        except Exception as exc:  # the journal said no: nothing was applied
            log.error("ingest failed: %s", exc)
            self._json(503, {"error": f"events not recorded: {exc}"})
            return
        self._json(202, {"accepted": len(events)})

    @staticmethod
    def _parse_batch(raw: bytes) -> list[Event]:
        try:
            payload = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise EventError(
                "body",
                raw[:40].decode("utf-8", "replace"),
                f"not valid JSON: {exc}",
                code=MALFORMED,
            ) from None
        items = payload if isinstance(payload, list) else [payload]
        if len(items) > MAX_BATCH:
            raise EventError("body", len(items), f"at most {MAX_BATCH} events per batch")
        events = []
        for index, item in enumerate(items):
            try:
                events.append(parse_event(item))
            except EventError as exc:
                field = f"[{index}].{exc.field}" if isinstance(payload, list) else exc.field
                raise EventError(field, exc.value, exc.reason, code=exc.code) from None
        return events


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


__all__ = ["MAX_BATCH", "MAX_INGEST_BYTES", "ExporterHTTPServer", "Ingest", "Reject"]
