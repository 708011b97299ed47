"""OTLP spans into the journal, the one road every event takes.

Each request's spans become events (``model.genai``), nested GenAI spans are
counted once (``model.lineage``), and the request's events are appended in
one journal transaction, keyed by trace and span id: a span an exporter sends
again after a lost answer is acknowledged and not counted twice. A span that
fails validation is rejected alone, counted in the rejects metric with its
reason, and named in the answer; nothing else in the request is lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ..model.events import StageFinished
from ..model.fields import EventError
from ..model.genai import SpanMapping, SpanRecord, span_events
from ..model.lineage import UsageLineage


@dataclass(frozen=True, slots=True)
class SpanResult:
    """What one export request came to."""

    spans: int
    rejected: int
    new_events: int
    #: The first rejection, for the answer's ``partial_success`` message.
    message: str = ""


class SpanIngest:
    """Turns decoded spans into journal appends.

    ``write(events, keys)`` appends atomically and returns how many were new
    (``journal.writer.JournalWriter``); ``reject(reason)`` counts a rejection.
    """

    def __init__(
        self,
        write: Callable[..., int],
        mapping: SpanMapping | None = None,
        *,
        reject: Callable[[str], None] = lambda reason: None,
        clock: Callable[[], float] = time.time,
        lineage: UsageLineage | None = None,
    ):
        self.write = write
        self.mapping = mapping or SpanMapping()
        self.reject = reject
        self.clock = clock
        self.lineage = lineage or UsageLineage()
        # Handler threads share the lineage; its decisions and the append
        # they lead to are made one request at a time (mapping spans to
        # events is not: it needs no shared state).
        self._lock = threading.Lock()

    def __call__(self, spans: list[SpanRecord], refused: list[EventError]) -> SpanResult:
        """Record ``spans`` (``refused``: spans the decoder could not read).

        Raises what ``write`` raises (the journal could not be written): then
        nothing of the request was recorded and the client should retry.
        """
        received = self.clock()
        errors = [("a span", error) for error in refused]
        mapped = []  # (span, its events, whether they are GenAI), mapped outside the lock
        for span in spans:
            try:
                found = span_events(span, self.mapping, received)
            except EventError as exc:
                errors.append((f"span {span.span_id}", exc))
                mapped.append((span, [], False))
                continue
            # A span is a stage, or a GenAI call (usage, call or both), or nothing.
            mapped.append((span, found, bool(found) and type(found[0]) is not StageFinished))
        events, keys = [], []
        with self._lock:
            for span, found, genai in mapped:
                if not self.lineage.admit(span, genai) and genai:
                    found = [event for event in found if type(event) is StageFinished]
                events.extend(found)
                keys.extend([span.key] * len(found))
            new = self.write(events, keys) if events else 0
        for _, error in errors:
            self.reject(error.code)
        message = f"{errors[0][0]}: {errors[0][1]}" if errors else ""
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more)"
        return SpanResult(len(spans) + len(refused), len(errors), new, message)


__all__ = ["SpanIngest", "SpanResult"]
