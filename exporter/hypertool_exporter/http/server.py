"""HTTP endpoints: ``/`` status page, ``/metrics``, ``/healthz``, ``POST /v1/events``,
OTLP trace export (``POST /v1/traces``, and Langfuse's path for it), OTLP
log export (``POST /v1/logs``: GenAI evaluation events) and the budget API
(``/v1/budgets/...``).

Built on the stdlib's threading HTTP server, with prometheus_client's own
content negotiation so ``/metrics`` speaks the Prometheus text format or
OpenMetrics as the scraper's Accept header asks.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hmac
import json
import logging
import ssl
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..exposition.statuspage import CONTENT_SECURITY_POLICY, StatusPage
from ..exposition.textformat import FastExposition
from ..model.fields import MALFORMED, EventError
from . import budgets as budget_api
from .connections import Connections
from .ingest import (
    MAX_INGEST_BYTES,
    BadRequest,
    error_document,
    idempotency_key,
    parse_batch,
)
from .listener import ConnectionHandler, Listener
from .negotiation import accepts_gzip, choose_format
from .otlp_paths import LOG_PATHS, METRIC_PATHS, TRACE_PATHS
from .webconfig import Auth, WebConfig

if TYPE_CHECKING:
    from .spans import SpanIngest

log = logging.getLogger(__name__)


#: ``ingest(events, keys, batch_key=..., releases=...)``: append a batch (``JournalWriter``);
#: returns how many were new.
Ingest = Callable[..., int]
Reject = Callable[[str], None]
#: The media type of plain text answers.
TEXT = "text/plain; charset=utf-8"


class ExporterHTTPServer(Listener):
    """The exporter's endpoints on one address; a thread per connection."""

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
        clock: Callable[[], float] = time.time,
        spans: SpanIngest | None = None,
        langfuse_keys: tuple[str, str] | None = None,
        connections: Connections | None = None,
        budgets: budget_api.BudgetAnswers | None = None,
    ):
        self.exposition = exposition
        #: The budget API's answers (None: off; it is on with ingest).
        self.budgets = budgets
        #: OTLP trace ingest (None: off), and the Langfuse key pair it also accepts.
        self.spans = spans
        self.langfuse_keys = langfuse_keys
        self.status_page = status_page
        self.ingest = ingest
        self.reject = reject or (lambda reason: None)
        #: The exporter's clock: an ingested event's timestamp must lie near it.
        self.clock = clock
        self.ingest_token = ingest_token
        self.web = web or WebConfig()
        super().__init__(
            address, _Handler, ssl_context=self.web.ssl_context, connections=connections
        )


class _Handler(ConnectionHandler):
    server: ExporterHTTPServer
    server_version = f"hypertool-exporter/{__version__}"

    def _authorized(self) -> bool:
        """Basic auth (web config), except for /healthz and ingest, which has its token."""
        path = self.path.split("?", 1)[0]
        ingest = path == "/v1/events" or path in TRACE_PATHS or path in LOG_PATHS
        if path == "/healthz" or (self.command == "POST" and ingest):
            return True  # ingest has its own credentials
        auth = self.server.web.check_basic_auth(self.headers.get("Authorization"))
        if auth is Auth.ALLOWED:
            return True
        if auth is Auth.BUSY:
            self._send(503, b"password checks busy, try again\n", TEXT, {"Retry-After": "1"})
            return False
        challenge = {"WWW-Authenticate": 'Basic realm="hypertool-exporter"'}
        self._send(401, b"unauthorized\n", TEXT, challenge)
        return False

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[Any, Any] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if status != 204:  # a 204 has no body, and says no length (RFC 9110)
            self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        for key, value in self.server.web.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(
        self, status: int, payload: dict[Any, Any], headers: dict[Any, Any] | None = None
    ) -> None:
        body = json.dumps(payload).encode()
        self._send(status, body, "application/json", headers)

    def handle_one_request(self) -> None:
        """One request, answered whatever happens: an unexpected error in a
        handler gets a 500 and one log line (the traceback only at debug).
        The connection is busy from its request's head to its answer."""
        try:
            super().handle_one_request()
        except (ssl.SSLError, ConnectionError, TimeoutError):
            raise
        except Exception as exc:
            log.warning(
                "request %s %s from %s failed: %s: %s",
                self.command,
                (self.path or "")[:80],
                self.client_address[0],
                type(exc).__name__,
                exc,
            )
            log.debug("traceback", exc_info=True)
            self.close_connection = True
            # If the response had already begun there is nothing more to say.
            with contextlib.suppress(Exception):
                self._json(500, {"error": "internal error"}, {"Connection": "close"})

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_DELETE(self) -> None:
        if not self._authorized():
            return
        if self.path.split("?", 1)[0].startswith(budget_api.PREFIX):
            self._budget()
        else:
            self._send(404, b"not found\n", TEXT)

    def do_GET(self) -> None:
        if not self._authorized():
            return
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._metrics()
        elif path == "/healthz":
            self._send(200, b"ok\n", TEXT)
        elif path.startswith(budget_api.PREFIX):
            self._budget()
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
            self._send(404, b"not found\n", TEXT)

    def _bearer_allowed(self, enabled: bool, what: str) -> bool:
        """Whether an endpoint behind the ingest token may answer: ``404`` when it
        is off (no token configured), ``401`` without the right bearer token."""
        if not enabled or not self.server.ingest_token:
            self._json(
                404, {"error": f"{what} is disabled: set ingest.token or HYPERTOOL_INGEST_TOKEN"}
            )
            return False
        if not self._credentials_ok(langfuse=False):
            self._json(
                401,
                {"error": "missing or wrong bearer token"},
                {"WWW-Authenticate": 'Bearer realm="hypertool-exporter"'},
            )
            return False
        return True

    def _budget(self) -> None:
        """The budget API (``http.budgets``), behind the ingest token's bearer
        auth, as ingest is: ``GET`` a standing, ``POST`` a reservation,
        ``DELETE`` one."""
        server = self.server
        desk = server.budgets
        if not self._bearer_allowed(desk is not None, "the budget API") or desk is None:
            return
        try:
            status, document = budget_api.respond(
                desk,
                self.command,
                self.path,
                self.body,
                server.clock,
            )
        except BadRequest as exc:
            self._refuse(exc.status, str(exc))
            return
        except EventError as exc:
            server.reject(exc.code)
            self._json(400, error_document(exc))
            return
        if document is None:
            self._send(status, b"", "application/json")
        else:
            self._json(status, document)

    def _metrics(self) -> None:
        openmetrics, content_type = choose_format(self.headers.get("Accept", ""))
        body, _ = self.server.exposition.render(openmetrics)
        headers = {"Vary": "Accept, Accept-Encoding"}
        if accepts_gzip(self.headers.get("Accept-Encoding", "")):
            body = gzip.compress(body, compresslevel=1)
            headers["Content-Encoding"] = "gzip"
        self._send(200, body, content_type, headers)

    def _credentials_ok(self, *, langfuse: bool) -> bool:
        """The ingest bearer token, or (for OTLP) Langfuse's Basic public:secret key pair."""
        server = self.server
        supplied = self.headers.get("Authorization", "").encode("utf-8", "replace")
        if server.ingest_token and any(  # (%20: a header variable's space, sent as written)
            hmac.compare_digest(supplied, f"Bearer{space}{server.ingest_token}".encode())
            for space in (" ", "%20")
        ):
            return True
        if langfuse and server.langfuse_keys is not None:
            pair = ":".join(server.langfuse_keys).encode()
            return hmac.compare_digest(supplied, b"Basic " + base64.b64encode(pair))
        return False

    def do_POST(self) -> None:
        if not self._authorized():
            return
        path = self.path.split("?", 1)[0]
        if path in TRACE_PATHS or path in LOG_PATHS or path in METRIC_PATHS:
            self._otlp(logs=path in LOG_PATHS, metrics=path in METRIC_PATHS)
            return
        if path.startswith(budget_api.PREFIX):
            self._budget()
            return
        if path != "/v1/events":
            self._send(404, b"not found\n", TEXT)
            return
        server = self.server
        ingest = server.ingest
        if not self._bearer_allowed(ingest is not None, "ingest") or ingest is None:
            return
        try:
            raw = self.body()
        except BadRequest as exc:
            self._refuse(exc.status, str(exc))
            return
        try:
            batch_key = idempotency_key(self.headers)
            events, keys, releases = parse_batch(raw, server.clock())
        except EventError as exc:
            server.reject(exc.code)
            self._json(400, error_document(exc))
            return
        try:
            new = ingest(events, keys, batch_key=batch_key, releases=releases)
        except Exception as exc:  # the journal said no: nothing was applied
            log.error("ingest failed: %s", exc)
            self._json(503, {"error": f"events not recorded: {exc}"})
            return
        self._json(202, {"accepted": len(events), "new": new, "duplicates": len(events) - new})

    def _otlp(self, *, logs: bool, metrics: bool = False) -> None:
        """An OTLP/HTTP trace (or log) export: decoded, mapped and journalled,
        answered in the request's encoding (``partial_success`` names what
        was rejected). A metric export (sent beside the spans) is accepted
        and left alone: its numbers are the spans' again."""
        from . import otlp  # here: an exporter that gets no export never loads it
        from .otlp_logs import decode_logs, logs_response

        server = self.server
        media = otlp.media_type(self.headers.get("Content-Type"))
        kind = media or otlp.JSON  # the encoding of answers, too
        if server.spans is None or not (server.ingest_token or server.langfuse_keys):
            message = "OTLP ingest is disabled: set ingest.token (or the Langfuse key pair)"
            self._otlp_error(404, 5, message, kind)
            return
        if not self._credentials_ok(langfuse=True):
            self._otlp_error(
                401,
                16,
                "missing or wrong credentials",
                kind,
                {"WWW-Authenticate": 'Bearer realm="hypertool-exporter", Basic realm="langfuse"'},
            )
            return
        if media is None:
            self._refuse(415, f"Content-Type must be {otlp.PROTOBUF} or {otlp.JSON}")
            return
        try:
            raw = self.body()
            body = otlp.decompress(raw, self.headers.get("Content-Encoding"), MAX_INGEST_BYTES)
        except BadRequest as exc:
            self._refuse(exc.status, str(exc))
            return
        except EventError as exc:  # damaged gzip
            self._refuse(400, str(exc))
            return
        except ValueError as exc:
            self._refuse(415, str(exc))
            return
        except OverflowError as exc:
            self._refuse(413, str(exc))
            return
        if metrics:
            self._send(200, b"{}" if kind == otlp.JSON else b"", kind)
            return
        try:
            if logs:
                result = server.spans.logs(*decode_logs(body, kind))
            else:
                result = server.spans.export(body, kind)
        except EventError as exc:  # the body as a whole cannot be read
            server.reject(exc.code)
            self._otlp_error(400, 3, str(exc), kind)
            return
        except Exception as exc:  # the journal said no: nothing was recorded
            log.error("OTLP ingest failed: %s", exc)
            self._otlp_error(503, 14, f"{'logs' if logs else 'spans'} not recorded: {exc}", kind)
            return
        answer = logs_response if logs else otlp.export_response
        self._send(200, answer(kind, result.rejected, result.message), kind)

    def _otlp_error(
        self, status: int, code: int, message: str, kind: str, headers: dict[Any, Any] | None = None
    ) -> None:
        from . import otlp

        self._send(status, otlp.status_body(kind, code, message), kind, headers)

    def _refuse(self, status: int, message: str) -> None:
        """Answer a malformed request, count it, log one line; close the
        connection, whose framing can no longer be trusted."""
        self.server.reject(MALFORMED)
        log.warning(
            "refused %s %s from %s: %s",
            self.command,
            self.path[:80],
            self.client_address[0],
            message,
        )
        self.close_connection = True
        self._json(status, {"error": message}, {"Connection": "close"})

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The standard library's answer to a request it cannot parse (bad request
        line, headers too long or too many): counted and logged in one line too,
        and always with a status line (never the bare body of HTTP/0.9)."""
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.0"
        if 400 <= code < 600:
            self.server.reject(MALFORMED)
            log.warning("refused request from %s: %d %s", self.client_address[0], code, message)
        super().send_error(code, message, explain)


__all__ = ["ExporterHTTPServer", "Ingest", "Reject"]
