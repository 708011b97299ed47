"""Token records in runs, and the events they stand for.

The hot path's token records (no trace id, reservation or workflow stage)
travel from a journalled collector to the journal and the fold as runs, in
the form of a token batch: the label set, then its records' numbers in one
flat list. Two forms, told apart by the label set's length:

- plain (no options): ``((persona, chat mode, model), [input, output,
  time, input, ...])``;
- with usage options: ``((persona, chat mode, model, operation, provider),
  [input, output, cache read, cache write, reasoning, reported cost or None,
  time, input, ...])``.

Why: a record as its numbers costs a list extend, where an event costs a
tuple of sixteen fields; and the journal writes, the daily rows add up and
the fold folds a run a label set at a time (``journal.rows``,
``journal.rollup``, ``fold.batches``, ``fold.usage_runs``), each to
exactly what the events a run stands for give.

Stdlib and ``model.events`` only: the recording CLI imports this.
"""

from __future__ import annotations

from .events import PLAIN_TOKENS_TAIL, TokensUsed, from_validated

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows CLI start-up
    from collections.abc import Iterable, Iterator
    from typing import Any

    from .events import Event

    #: A record with usage options: input, output, cache read, cache write and
    #: reasoning tokens, the reported cost (or None: priced by the fold), time.
    UsageRecord = tuple[int, int, int, int, int, float | None, float]
    TokenRun = tuple[tuple[Any, ...], list[Any]]
else:  # typing's Any is not loaded at run time
    TokenRun = tuple

#: A plain run's label set's length (a run with usage options has five).
PLAIN_LABELS = 3
#: Numbers a record has: a plain one, and one with usage options.
PLAIN_WIDTH, USAGE_WIDTH = 3, 7


def width_of(labels: tuple[Any, ...]) -> int:
    """How many numbers each record of the run of ``labels`` has."""
    return PLAIN_WIDTH if len(labels) == PLAIN_LABELS else USAGE_WIDTH


def records_in(runs: Iterable[TokenRun]) -> int:
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


def run_record_event(labels: tuple[Any, ...], record: tuple[Any, ...]) -> TokensUsed:
    """The event a record of a run of ``labels`` (either form) stands for."""
    if len(labels) == PLAIN_LABELS:
        return record_event(labels, *record)
    return usage_event(labels, record)


def run_events(runs: Iterable[TokenRun]) -> list[Event]:
    """The token events runs of records stand for, in order."""
    events: list[Event] = []
    for labels, run in runs:
        if len(labels) == PLAIN_LABELS:
            events += [record_event(labels, *record) for record in records_of(run)]
        else:
            events += [usage_event(labels, record) for record in usage_records_of(run)]
    return events


__all__ = [
    "PLAIN_LABELS",
    "PLAIN_WIDTH",
    "USAGE_WIDTH",
    "TokenRun",
    "record_event",
    "records_in",
    "records_of",
    "run_events",
    "run_record_event",
    "usage_event",
    "usage_records_of",
    "width_of",
]
