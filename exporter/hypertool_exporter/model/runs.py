"""Records in runs, and the events they stand for.

The in-process hot path's records (label values seen before, no trace id,
reservation or workflow stage) travel from a journalled collector to the
journal and the fold as runs: the label set, then its records' values in
one flat list, in the form of a token batch. Three forms:

- plain token records (no options): ``((persona, chat mode, model),
  [input, output, time, input, ...])``;
- token records with usage options: ``((persona, chat mode, model,
  operation, provider), [input, output, cache read, cache write,
  reasoning, reported cost or None, time, input, ...])``;
- tool calls, workflow stages and LLM calls: ``((event class, label
  values...), [seconds, time, seconds, ...])``; persona switches, a run a session:
  ``((PersonaSwitched, session), [persona, chat mode, previous persona,
  time, ...])``; how each lies given by its ``EventShape`` (``EVENT_RUNS``).

Why: a record as its values costs a list extend, where an event costs a
tuple of all its fields; and the journal writes a run's rows
(``journal.run_rows``), adds it to the day's totals (``journal.rollup``)
and the fold folds it (``fold.batches``, ``fold.usage_runs``, the
handlers' ``by_run``) a label set at a time, each to exactly what the
events it stands for give. A session's switches are one run, whatever
their personas, so that they are folded in the order they were recorded:
a switch's duration is measured from its session's switch before.

Stdlib and ``model.events`` only: the recording CLI imports this.
"""

from __future__ import annotations

from .events import (
    PLAIN_TOKENS_TAIL,
    LLMCallFinished,
    PersonaSwitched,
    StageFinished,
    TokensUsed,
    from_validated,
)
from .work import ToolCallFinished

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows CLI start-up
    from collections.abc import Iterable, Iterator
    from typing import Any

    from .eventbase import EventRecord
    from .events import Event

    #: A record with usage options: input, output, cache read, cache write and
    #: reasoning tokens, the reported cost (or None: priced by the fold), time.
    UsageRecord = tuple[int, int, int, int, int, float | None, float]
    Run = tuple[tuple[Any, ...], list[Any]]
else:  # typing's Any is not loaded at run time
    Run = tuple

#: A plain run's label set's length (a run with usage options has five).
PLAIN_LABELS = 3
#: Numbers a record has: a plain one, and one with usage options.
PLAIN_WIDTH, USAGE_WIDTH = 3, 7


class EventShape:
    """How a run of one event class lies: the fields its label set names, in
    order, and those each record gives, in order, then its time (every other
    field at its default: no trace id). ``named``: whether a record gives
    names (a switch's personas), not one number (a duration)."""

    __slots__ = ("cls", "defaults", "fields", "given", "named", "ts", "width")

    def __init__(
        self, cls: type[EventRecord], fields: tuple[str, ...], given: tuple[str, ...], named: bool
    ):
        self.cls, self.named = cls, named
        names = cls._fields
        #: Positions of the label set's values, of a record's, and of the time.
        self.fields = tuple(names.index(name) for name in fields)
        self.given = tuple(names.index(name) for name in given)
        self.ts = names.index("ts")
        #: Values a record has: those it gives and its time.
        self.width = len(given) + 1
        self.defaults = [cls._field_defaults.get(name) for name in names]

    def event(self, labels: tuple[Any, ...], *record: Any) -> Event:
        """The event a record stands for (``labels`` after their class and
        the record's values: validated)."""
        values = self.defaults[:]
        for index, value in zip(self.fields, labels[1:], strict=True):
            values[index] = value
        for index, value in zip(self.given, record, strict=False):  # the time comes last
            values[index] = value
        values[self.ts] = record[-1]
        event: Event = from_validated(self.cls, values)  # type: ignore[assignment]  # an event class
        return event

    def where(self, field: int) -> tuple[bool, int]:
        """Where the event's field ``field`` is in a run: (in the label set,
        its place after the class) or (in each record, its place there)."""
        if field in self.fields:
            return True, self.fields.index(field)
        return False, self.given.index(field)


#: The event classes whose records may wait in runs, and how each lies.
EVENT_RUNS: dict[type, EventShape] = {
    ToolCallFinished: EventShape(
        ToolCallFinished, ("persona", "tool", "error_type"), ("duration_seconds",), False
    ),
    StageFinished: EventShape(
        StageFinished, ("workflow", "stage", "persona", "gate"), ("duration_seconds",), False
    ),
    PersonaSwitched: EventShape(
        PersonaSwitched, ("session",), ("to_persona", "chatmode", "from_persona"), True
    ),
    LLMCallFinished: EventShape(
        LLMCallFinished,
        ("persona", "model", "error_type", "operation", "provider", "usage_unknown"),
        ("duration_seconds",),
        False,
    ),
}


def event_shape(labels: tuple[Any, ...]) -> EventShape | None:
    """How the run of ``labels`` lies if it is an event run; None for tokens."""
    return None if type(labels[0]) is str else EVENT_RUNS[labels[0]]


def run_class(labels: tuple[Any, ...]) -> type:
    """The event class the records of the run of ``labels`` stand for."""
    return TokensUsed if type(labels[0]) is str else labels[0]


def width_of(labels: tuple[Any, ...]) -> int:
    """How many values each record of the run of ``labels`` has."""
    if type(labels[0]) is not str:
        return EVENT_RUNS[labels[0]].width
    return PLAIN_WIDTH if len(labels) == PLAIN_LABELS else USAGE_WIDTH


def names_in(runs: Iterable[Run]) -> list[str]:
    """The names runs refer to: their label sets', and those their records
    give (a switch's personas and chat mode), each once a run."""
    names: list[str] = []
    for labels, run in runs:
        names += [name for name in labels if type(name) is str]
        shape = event_shape(labels)
        if shape is not None and shape.named:  # the names before each record's time
            given: set[Any] = set()
            for at in range(shape.width - 1):
                given.update(run[at :: shape.width])
            names += [name for name in given if type(name) is str]
    return names


def records_in(runs: Iterable[Run]) -> int:
    """How many records ``runs`` hold."""
    return sum(len(run) // width_of(labels) for labels, run in runs)


def records_of(run: list[float]) -> Iterator[tuple[int, int, float]]:
    """A plain run's records (input, output, time), in order."""
    records = iter(run)
    return zip(records, records, records, strict=True)  # type: ignore[arg-type]  # whole counts


def usage_records_of(run: list[Any]) -> Iterator[UsageRecord]:
    """A run's records with usage options, in order."""
    r = iter(run)
    return zip(r, r, r, r, r, r, r, strict=True)


def record_event(
    labels: tuple[str, str, str],
    input_tokens: int,
    output_tokens: int,
    ts: float,
    trace_id: str | None = None,
) -> TokensUsed:
    """The event a plain record stands for (validated values: no checks).
    Without a trace id, the plain tail is joined on whole: one tuple
    concatenation, the journalled hot path's quickest way to an event."""
    persona, chatmode, model = labels
    head = (persona, model, input_tokens, output_tokens, chatmode, ts)
    if trace_id is None:
        return from_validated(TokensUsed, head + PLAIN_TOKENS_TAIL)
    return from_validated(TokensUsed, (*head, trace_id, *PLAIN_TOKENS_TAIL[1:]))


def usage_event(labels: tuple[Any, ...], record: UsageRecord) -> TokensUsed:
    """The event a record with usage options stands for (validated values)."""
    persona, chatmode, model, operation, provider = labels
    input_tokens, output_tokens, cache_read, cache_write, reasoning, cost, ts = record
    # fmt: off
    return from_validated(TokensUsed, (persona, model, input_tokens, output_tokens, chatmode, ts,
                                       None, cache_read, cache_write, reasoning, cost, operation,
                                       provider, None, None, None))
    # fmt: on


def run_record_event(labels: tuple[Any, ...], record: tuple[Any, ...]) -> Event:
    """The event a record of a run of ``labels`` (any form) stands for."""
    shape = event_shape(labels)
    if shape is not None:
        return shape.event(labels, *record)
    if len(labels) == PLAIN_LABELS:
        return record_event(labels, *record)
    return usage_event(labels, record)


def run_events(runs: Iterable[Run]) -> list[Event]:
    """The events runs of records stand for, in order."""
    events: list[Event] = []
    for labels, run in runs:
        shape = event_shape(labels)
        if shape is not None:
            width = shape.width
            events += [shape.event(labels, *run[i : i + width]) for i in range(0, len(run), width)]
        elif len(labels) == PLAIN_LABELS:
            events += [record_event(labels, *record) for record in records_of(run)]
        else:
            events += [usage_event(labels, record) for record in usage_records_of(run)]
    return events


__all__ = [
    "EVENT_RUNS",
    "PLAIN_LABELS",
    "PLAIN_WIDTH",
    "USAGE_WIDTH",
    "EventShape",
    "Run",
    "event_shape",
    "names_in",
    "record_event",
    "records_in",
    "records_of",
    "run_class",
    "run_events",
    "run_record_event",
    "usage_event",
    "usage_records_of",
    "width_of",
]
