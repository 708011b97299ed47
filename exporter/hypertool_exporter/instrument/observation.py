"""A trace, span or generation of the Langfuse facade: its OpenTelemetry
span, who it is for, and how it ends. Its own module: the facade
(``langfuse_api``) and the plan's calls on it (``langfuse_plan``) both use it.
"""

from __future__ import annotations

from contextvars import Token
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.trace import Span, Status, StatusCode

from . import tracing

#: ``end_trace`` statuses and the span status each becomes.
STATUSES = {
    "success": StatusCode.OK,
    "ok": StatusCode.OK,
    "completed": StatusCode.OK,
    "error": StatusCode.ERROR,
    "failed": StatusCode.ERROR,
    "failure": StatusCode.ERROR,
}


class Observation:
    """A trace, span or generation: its OpenTelemetry span and who it is for.

    Usable as a context manager: leaving the block ends it (a trace with
    ``error`` status when the block raised).
    """

    def __init__(self, integration: Any, kind: str, name: str, span: Span):
        self.integration = integration
        self.kind = kind
        self.name = name
        self.span = span
        self.persona: str | None = None
        self.chatmode: str | None = None
        self.children: list[Observation] = []
        self.ended = False
        self._context_token: Token[otel_context.Context] | None = None
        self._identity_tokens: tuple[Any, ...] = ()

    @property
    def id(self) -> str:
        """Hex span id (Langfuse's observation id)."""
        return format(self.span.get_span_context().span_id, "016x")

    @property
    def trace_id(self) -> str:
        return format(self.span.get_span_context().trace_id, "032x")

    def end(self, status: str = "success") -> None:
        """End this observation and any child still open."""
        if self.ended:
            return
        code = STATUSES.get(status)
        if code is None:
            raise ValueError(f"status: must be one of {', '.join(STATUSES)} (got {status!r})")
        for child in self.children:
            child.end(status)
        if code is StatusCode.ERROR:
            self.span.set_attribute("langfuse.observation.level", "ERROR")
        self.span.set_status(Status(code))
        self.span.end()
        self.ended = True
        if self._context_token is not None:
            otel_context.detach(self._context_token)
            tracing.current_chatmode.reset(self._identity_tokens[1])
            tracing.current_persona.reset(self._identity_tokens[0])
            self._context_token = None

    def __enter__(self) -> Observation:
        return self

    def __exit__(self, *exc_info: object) -> None:
        exc = exc_info[1]
        if isinstance(exc, BaseException):
            self.span.record_exception(exc)
        self.end("error" if exc is not None else "success")


__all__ = ["STATUSES", "Observation"]
