"""OTLP spans to events, before the lineage decides which count: the part of
a span's cost that needs no shared state, so a worker process can take it
(``mapping_pool``), with one function for both places.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from operator import itemgetter

from ..model.events import Event, LLMCallFinished, TokensUsed
from ..model.fields import EventError
from ..model.genai import SpanIdentity, SpanMapping, SpanRecord, response_id, span_events, span_key
from ..model.genai_work import work_tag
from . import otlp

#: The events of a GenAI call: of nested spans describing one call, one counts.
COUNTED_ONCE = (TokensUsed, LLMCallFinished)


class SpanIds(tuple[str, str, "str | None", int, str]):
    """A span as a worker sends it back: (trace id, span id, parent id, end,
    scope), all that recording reads (``SpanIdentity``). A tuple: unpickled
    in a tenth of a ``SpanRecord``'s time (0.27 against 3.1 us a span), in
    the process that is the limit."""

    __slots__ = ()
    trace_id = property(itemgetter(0))
    span_id = property(itemgetter(1))
    parent_id = property(itemgetter(2))
    end_ns = property(itemgetter(3))
    scope = property(itemgetter(4))

    @property
    def key(self) -> str:
        return span_key(self[0], self[1], self[3])


@dataclass(slots=True)
class MappedSpans:
    """A request's spans mapped to events, before the lineage decides which
    count: what needs no shared state, so a worker process can do it.

    ``SpanIngest.record`` reads the spans' ids, end times and scopes, never
    their attributes: a worker sends only those (``slim``).
    """

    received: float
    spans: Sequence[SpanIdentity]
    #: Each span's events, all of them (the lineage drops what does not count).
    mapped: list[list[Event]]
    #: Per span: whether its events are a GenAI call's (``COUNTED_ONCE``).
    genai: list[bool]
    #: Per span: what it is to the calls below it (``genai_work.work_tag``).
    tags: list[str | None]
    #: Per span: the provider's response id, for a GenAI call's span.
    responses: list[str | None]
    #: (where, error) of each span refused, the decoder's first.
    errors: list[tuple[str, EventError]]
    #: Spans in the request, refused ones included.
    total: int

    def slim(self) -> MappedSpans:
        """The same with each span as its ``SpanIds``: what a worker sends back."""
        ids = [SpanIds((s.trace_id, s.span_id, s.parent_id, s.end_ns, s.scope)) for s in self.spans]
        return replace(self, spans=ids)


def map_spans(
    spans: list[SpanRecord], refused: Sequence[EventError], mapping: SpanMapping, received: float
) -> MappedSpans:
    """Each span's events (``model.genai``), work tag and response id; a span
    whose values cannot be mapped is refused alone, whatever the fault."""
    errors = [("a span", error) for error in refused]
    mapped: list[list[Event]] = []
    for span in spans:
        try:
            found = span_events(span, mapping, received)
        except EventError as exc:
            errors.append((f"span {span.span_id}", exc))
            found = []
        except (ValueError, TypeError, ArithmeticError, RecursionError) as exc:
            errors.append((f"span {span.span_id}", _unreadable(exc)))
            found = []
        mapped.append(found)
    # A GenAI call's events (usage, call or both) count once per chain of
    # nested spans; a stage's, a run's, a tool call's and a score's always.
    genai = [any(type(event) in COUNTED_ONCE for event in found) for found in mapped]
    responses = [
        response_id(span) if counted else None for span, counted in zip(spans, genai, strict=True)
    ]
    tags = [work_tag(span) for span in spans]
    return MappedSpans(
        received, spans, mapped, genai, tags, responses, errors, len(spans) + len(refused)
    )


def _unreadable(exc: BaseException) -> EventError:
    """A span's values that broke the mapping in a way it did not foresee: refused
    by what was wrong, never a server error (which an exporter would retry forever)."""
    reason = "is nested too deep" if isinstance(exc, RecursionError) else f"cannot be read: {exc}"
    return EventError("attributes", type(exc).__name__, reason)


def map_export(body: bytes, kind: str, mapping: SpanMapping, received: float) -> MappedSpans:
    """Decode an export in ``kind`` and map its spans; ``EventError`` (code
    ``malformed``) when the body as a whole cannot be read."""
    spans, refused = otlp.decode(body, kind)
    return map_spans(spans, refused, mapping, received)


def map_export_slim(body: bytes, kind: str, mapping: SpanMapping, received: float) -> MappedSpans:
    """``map_export``, slimmed for sending back: what a worker runs."""
    return map_export(body, kind, mapping, received).slim()


__all__ = [
    "COUNTED_ONCE",
    "MappedSpans",
    "SpanIds",
    "map_export",
    "map_export_slim",
    "map_spans",
]
