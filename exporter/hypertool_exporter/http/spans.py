"""OTLP spans into the journal, the one road every event takes.

Each request's spans become events (``span_mapping``, in a worker process
for a large export: ``mapping_pool``), nested GenAI spans are
counted once (``model.lineage``, decided only once the write succeeded), and
the request's events are appended in one journal transaction, each span's
keyed by its trace and span id: a span sent twice, side by side or after a
lost answer, is acknowledged and not counted twice. A span that fails validation,
or whose values break the mapping in any way, is rejected alone, counted in
the rejects metric with its reason, and named in the answer; nothing else in
the request is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..model.events import Event, TokensUsed
from ..model.fields import EventError
from ..model.genai import SpanIdentity, SpanMapping, SpanRecord, persona_of
from ..model.genai_usage import carry_reported_costs
from ..model.genai_work import UNKNOWN, attributed, context
from ..model.lineage import UsageLineage
from ..model.waiting import WaitingCalls
from ..model.wire import delivery_keys
from ..model.work import QualityScored
from .mapping_pool import MappingPool
from .otlp_logs import EvaluationRecord
from .span_mapping import COUNTED_ONCE, MappedSpans, map_spans

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SpanResult:
    """What one export request came to."""

    spans: int
    rejected: int
    new_events: int
    #: The first rejection, for the answer's ``partial_success`` message.
    message: str = ""
    #: Counted spans this request showed to be nested in another counted one
    #: (``model.lineage``): counted twice, and said so in a self-metric.
    joined: int = 0


class SpanIngest:
    """Turns decoded spans into journal appends.

    ``write(events, keys)`` appends atomically and returns how many were new
    (``journal.writer.JournalWriter``); ``reject(reason)`` counts a rejection.
    ``workers``: processes that map large exports (``mapping_pool``; 0: all
    are mapped here).
    """

    def __init__(
        self,
        write: Callable[..., int],
        mapping: SpanMapping | None = None,
        *,
        reject: Callable[[str], None] = lambda reason: None,
        clock: Callable[[], float] = time.time,
        lineage: UsageLineage | None = None,
        workers: int = 0,
    ):
        self.write = write
        self.mapping = mapping or SpanMapping()
        self.reject = reject
        self.clock = clock
        self.lineage = lineage if lineage is not None else UsageLineage()  # empty is falsy
        #: Calls waiting for the workflow they were made in (``model.waiting``).
        self.waiting = WaitingCalls()
        # Handler threads share the lineage; its decisions and the append
        # they lead to are made one request at a time (mapping spans to
        # events is not: it needs no shared state).
        self._lock = threading.Lock()
        #: Decodes and maps exports, large ones in worker processes.
        self.pool = MappingPool(workers, self.mapping)

    def export(self, body: bytes, kind: str) -> SpanResult:
        """Decode, map and record an OTLP trace export in ``kind`` (``otlp``'s
        media types); ``EventError`` (code ``malformed``) when the body as a
        whole cannot be read, else as ``__call__``."""
        return self.record(self.pool(body, kind, self.clock()))

    def close(self) -> None:
        """Stop the mapping workers, if any started."""
        self.pool.close()

    def __call__(self, spans: list[SpanRecord], refused: Sequence[EventError]) -> SpanResult:
        """Record ``spans`` (``refused``: spans the decoder could not read).

        A span whose values cannot be mapped is refused alone, whatever the
        fault, and named in the result. Raises what ``write`` raises (the
        journal could not be written): then nothing of the request was
        recorded, the lineage forgets it too, and the client should retry.
        """
        return self.record(map_spans(spans, refused, self.mapping, self.clock()))

    def record(self, request: MappedSpans) -> SpanResult:
        """Record a request's spans as ``map_spans`` mapped them (here or in
        a worker process: ``mapping_pool``); raises as ``__call__`` does."""
        received = request.received
        spans, mapped, errors = request.spans, request.mapped, request.errors
        events: list[Event] = []
        keys: list[str | None] = []
        with self._lock:
            decisions = self.lineage.decide(spans, request.genai, request.tags, request.responses)
            waiting = self.waiting
            waiting.expire(received)
            # Calls of earlier requests whose workflow this one brought.
            charges, settled = waiting.settle(self.lineage, {span.trace_id for span in spans})
            to_wait: list[tuple[SpanIdentity, TokensUsed]] = []
            carry_reported_costs(spans, mapped, decisions.counts)
            for span, found, counts in zip(spans, mapped, decisions.counts, strict=True):
                if not counts:
                    found = [event for event in found if type(event) not in COUNTED_ONCE]
                if found:  # the workflow, stage and agent above the span
                    found, complete = self._attributed(span, found)
                    if not complete:  # a call may yet learn its workflow
                        to_wait += [
                            (span, e) for e in found if type(e) is TokensUsed and e.workflow is None
                        ]
                    events.extend(found)
                    # One delivery per span: sent twice, in one request or two, it counts once.
                    keys += delivery_keys(span.key, len(found))
            for key, charge in charges:
                events.append(charge)
                keys.append(key)
            try:
                new = self.write(events, keys) if events else 0
            except BaseException:
                self.lineage.rollback(decisions)
                raise
            self.lineage.commit(decisions)
            waiting.remove(settled)
            for span, call in to_wait:
                waiting.add(span.trace_id, span.span_id, span.parent_id, call, received)
        if decisions.joined:
            log.warning(
                "%d counted GenAI span(s) found nested in another counted one by a span that "
                "arrived after both: that call was counted twice",
                decisions.joined,
            )
        for _, error in errors:
            self.reject(error.code)
        message = f"{errors[0][0]}: {errors[0][1]}" if errors else ""
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
        return SpanResult(request.total, len(errors), new, message, decisions.joined)

    def logs(self, records: list[EvaluationRecord], total: int) -> SpanResult:
        """Record the evaluation results of an OTLP log export (``total``
        records in all: the others are accepted and left alone). A record
        whose values cannot be read is refused alone; one naming no persona
        takes its span's agent's, when the span is known."""
        received = self.clock()
        events: list[Event] = []
        keys: list[str | None] = []
        errors: list[EventError] = []
        with self._lock:
            for record in records:
                persona = persona_of(record, self.mapping)
                if persona == UNKNOWN and record.trace_id and record.span_id:
                    tags, _ = self.lineage.ancestry(record.trace_id, record.span_id)
                    persona = context(tags)[2] or persona
                attributes = record.attributes
                raw = {
                    "persona": persona,
                    "evaluation": attributes.get("gen_ai.evaluation.name"),
                    "score": attributes.get("gen_ai.evaluation.score.value"),
                    "label": attributes.get("gen_ai.evaluation.score.label"),
                    "ts": record.time_ns / 1e9 if record.time_ns else received,
                    "trace_id": record.trace_id or None,
                }
                try:
                    event = QualityScored.parse(raw, received)
                except EventError as exc:
                    errors.append(exc)
                    continue
                events.append(event)
                # A retried export scores once: the record's place and content name it.
                keys.append(f"log:{record.trace_id}{record.span_id}:{record.time_ns}:{event[1:4]}")
            new = self.write(events, keys) if events else 0
        for error in errors:
            self.reject(error.code)
        message = f"a log record: {errors[0]}" if errors else ""
        return SpanResult(total, len(errors), new, message, 0)

    def _attributed(self, span: SpanIdentity, found: list[Event]) -> tuple[list[Event], bool]:
        """``found`` with the context of the span's nearest workflow, stage and
        agent ancestors known by now (``genai_work.attributed``), and whether
        all its ancestors are known; an event a context cannot be given to (a
        bad agent name) stays as it was."""
        tags, complete = self.lineage.ancestry(span.trace_id, span.parent_id)
        if not tags:
            return found, complete
        workflow, stage, agent = context(tags)
        out = []
        for event in found:
            try:
                out.append(attributed(event, workflow, stage, agent))
            except EventError:
                out.append(event)
        return out, complete


__all__ = ["SpanIngest", "SpanResult"]
