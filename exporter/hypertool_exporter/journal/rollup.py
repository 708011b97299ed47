"""Per-day totals derived from typed events, in one place.

The journal keeps a ``daily`` table beside the events, written in the same
transaction as each append, so ``stats`` answers from a few hundred rows
however long the journal is. What an event adds to that table is decided
here, by the event's class, and nowhere else.

Stdlib and ``model.events`` only: the recording CLI imports this.
"""

from __future__ import annotations

from ..model.events import (
    PLAIN_TOKENS_TAIL,
    TOKENS_OPTIONAL_FROM,
    LLMCallFinished,
    PersonaSwitched,
    QualityScored,
    StageFinished,
    TokensUsed,
    ToolCallFinished,
    WorkflowCharged,
    WorkflowRunFinished,
)
from ..model.fields import FAILED
from ..model.runs import EVENT_RUNS, PLAIN_LABELS, records_of, usage_records_of

TYPE_CHECKING = False
if TYPE_CHECKING:  # not imported at run time: it slows CLI start-up
    from collections.abc import Iterable
    from typing import Any

    from ..model.eventbase import EventRecord
    from ..model.events import Event
    from ..model.runs import Run

    #: A ``daily`` row, in ``DAILY_COLUMNS`` order.
    DailyRow = tuple[Any, ...]

SECONDS_PER_DAY = 86400

#: How a row's cost is known: estimated by whoever reads it (``stats`` prices
#: the tokens), reported by the provider (``reported_cost_usd``), or priced
#: by an instrumentation (its figure in ``reported_cost_usd``, used by a
#: reader only for a model it has no price for).
ESTIMATED = ""
REPORTED = "reported"
INSTRUMENTATION = "instrumentation"

#: The key columns of a ``daily`` row, then the totals it sums.
DAILY_KEY = ("day", "persona", "model", "cost_source")
DAILY_TOTALS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
    "reported_cost_usd",
    "switches",
    "failed_gates",
)
DAILY_COLUMNS = DAILY_KEY + DAILY_TOTALS
#: A row's totals before anything is added: whole counts, and dollars.
_NO_TOTALS = tuple(0.0 if name.endswith("_usd") else 0 for name in DAILY_TOTALS)

#: The ``daily`` table: one row per UTC day, persona, model and cost source.
DAILY_TABLE = (
    "CREATE TABLE IF NOT EXISTS daily (day INTEGER NOT NULL, persona TEXT NOT NULL, "
    "model TEXT NOT NULL, cost_source TEXT NOT NULL DEFAULT '', "
    + ", ".join(
        f"{name} {'REAL' if name.endswith('_usd') else 'INTEGER'} NOT NULL DEFAULT 0"
        for name in DAILY_TOTALS
    )
    + ", PRIMARY KEY (day, persona, model, cost_source))"
)

#: Adds rows' totals to the table, in the append's transaction: the values
#: go between the two (``inserts.insert_rows``).
UPSERT = f"INSERT INTO daily ({', '.join(DAILY_COLUMNS)}) VALUES "
ON_CONFLICT_ADD = f" ON CONFLICT ({', '.join(DAILY_KEY)}) DO UPDATE SET " + ", ".join(
    f"{name} = {name} + excluded.{name}" for name in DAILY_TOTALS
)


def _day(ts: float) -> int:
    return int(ts // SECONDS_PER_DAY)


def _one_day(stamps: list[float]) -> int | None:
    """The UTC day of every time in ``stamps`` when they share one (a run
    is then added up in a few sums), else None (a record at a time)."""
    day = _day(min(stamps))
    return day if day == _day(max(stamps)) else None


#: Where the other events count, one each: a switch, a failed gate.
_SWITCHES, _FAILED_GATES = DAILY_TOTALS.index("switches"), DAILY_TOTALS.index("failed_gates")


def _at(cls: type[EventRecord], field: str) -> int:
    return cls._fields.index(field)


#: What each other event class counts, one each (token events: ``daily_rows``
#: itself): the positions of its persona and its time, the total it adds
#: to, and the position of a verdict it counts only when it failed (a
#: stage's gate); None for a class that counts nothing. Positions, not
#: accessors: a batch's switches are read in a tenth of the time.
_COUNTS: dict[type, tuple[int, int, int, int | None] | None] = {
    PersonaSwitched: (
        _at(PersonaSwitched, "to_persona"),
        _at(PersonaSwitched, "ts"),
        _SWITCHES,
        None,
    ),
    StageFinished: (
        _at(StageFinished, "persona"),
        _at(StageFinished, "ts"),
        _FAILED_GATES,
        _at(StageFinished, "gate"),
    ),
    LLMCallFinished: None,
    WorkflowRunFinished: None,
    ToolCallFinished: None,
    QualityScored: None,
    WorkflowCharged: None,
}


def daily_rows(events: Iterable[Event], runs: Iterable[Run] = ()) -> list[DailyRow]:
    """The per-day totals ``events`` and records in runs (``runs``) add
    to, summed per key in first-seen order: a batch of a thousand token
    events of a few personas and models is a few upserts, not a thousand.
    Token events, the journal's most frequent, are added up here in one pass
    (a plain one's two counts alone); the others through ``_COUNTS``; a run
    of plain records a day at a time, one with usage options in a few sums."""
    merged: dict[tuple[Any, ...], list[Any]] = {}
    for labels, run in runs:
        if type(labels[0]) is not str:  # an event run: (its class, its labels)
            _add_events(merged, labels, run)
            continue
        if len(labels) != PLAIN_LABELS:
            _add_usage(merged, labels, run)
            continue
        persona, _chatmode, model = labels
        day = _one_day(run[2::3])
        if day is not None:  # the run is one day's: two sums
            parts = [(day, run[0::3], run[1::3])]
        else:
            parts = [(_day(ts), [i], [o]) for i, o, ts in records_of(run)]
        for day, inputs, outputs in parts:
            sums = merged.setdefault((day, persona, model, ESTIMATED), list(_NO_TOTALS))
            sums[0] += sum(inputs)
            sums[1] += sum(outputs)
    plain, cut = PLAIN_TOKENS_TAIL, TOKENS_OPTIONAL_FROM
    for event in events:
        if type(event) is TokensUsed:
            if event[cut:] == plain:  # two counts, no cost: the journal's most frequent row
                persona, model, inp, out, _chatmode, ts = event[:cut]
                key = (int(ts // SECONDS_PER_DAY), persona, model, ESTIMATED)
                totals = merged.get(key)
                if totals is None:
                    merged[key] = [inp, out, 0, 0, 0, 0.0, 0, 0]
                else:
                    totals[0] += inp
                    totals[1] += out
                continue
            # fmt: off
            (persona, model, inp, out, _chatmode, ts, _trace, cache_read, cache_write,
             reasoning, cost, _operation, _provider, _workflow, _stage, estimate) = event
            # fmt: on
            if cost is not None:
                source = REPORTED
            elif estimate is not None:
                source, cost = INSTRUMENTATION, estimate
            else:
                source, cost = ESTIMATED, 0.0
            key = (_day(ts), persona, model, source)
            totals = merged.get(key)
            if totals is None:
                merged[key] = [inp, out, cache_read, cache_write, reasoning, cost, 0, 0]
            else:
                totals[0] += inp
                totals[1] += out
                totals[2] += cache_read
                totals[3] += cache_write
                totals[4] += reasoning
                totals[5] += cost
            continue
        counts = _COUNTS[type(event)]
        if counts is None:
            continue
        who, when, column, verdict = counts
        if verdict is not None and event[verdict] != FAILED:
            continue
        key = (int(event[when] // SECONDS_PER_DAY), event[who], "", ESTIMATED)
        totals = merged.get(key)
        if totals is None:
            totals = merged[key] = list(_NO_TOTALS)
        totals[column] += 1
    return [(*key, *totals) for key, totals in merged.items()]


def _add_events(
    merged: dict[tuple[Any, ...], list[Any]], labels: tuple[Any, ...], run: list[Any]
) -> None:
    """Add an event run (``model.runs``) to ``merged``, as ``daily_rows``
    adds the events it stands for, by ``_COUNTS``: the persona and a verdict
    read from the label set or from each record, where the run keeps them.
    A run of one day is counted a persona at a time."""
    cls = labels[0]
    counts = _COUNTS[cls]
    if counts is None:
        return
    shape = EVENT_RUNS[cls]
    width = shape.width
    who, _when, column, verdict = counts
    stamps = run[width - 1 :: width]
    in_labels, at = shape.where(who)
    personas = [labels[1 + at]] * len(stamps) if in_labels else run[at::width]
    if verdict is not None:  # only the failed count
        in_labels, at = shape.where(verdict)
        if in_labels and labels[1 + at] != FAILED:
            return
        if not in_labels:
            failed = [found == FAILED for found in run[at::width]]
            personas = [p for p, kept in zip(personas, failed, strict=True) if kept]
            stamps = [ts for ts, kept in zip(stamps, failed, strict=True) if kept]
    if not stamps:
        return
    tally: dict[tuple[int, str], int] = {}
    day = _one_day(stamps)
    if day is not None:
        each: dict[str, int] = {}
        for persona in personas:
            each[persona] = each.get(persona, 0) + 1
        tally = {(day, persona): n for persona, n in each.items()}
    else:
        for persona, ts in zip(personas, stamps, strict=True):
            key = (_day(ts), persona)
            tally[key] = tally.get(key, 0) + 1
    for (day, persona), n in tally.items():
        totals = merged.setdefault((day, persona, "", ESTIMATED), list(_NO_TOTALS))
        totals[column] += n


def _add_usage(
    merged: dict[tuple[Any, ...], list[Any]], labels: tuple[Any, ...], run: list[Any]
) -> None:
    """Add a run of records with usage options to ``merged``, as ``daily_rows``
    adds the token events they stand for (none has an estimate: each cost is
    reported or left to the reader). A run of one day whose costs are all
    reported, or all not, is six sums; any other, a record at a time."""
    persona, model = labels[0], labels[2]
    stamps, costs = run[6::7], run[5::7]
    day = _one_day(stamps)
    unreported = costs.count(None)
    if day is not None and unreported in (0, len(costs)):
        source = ESTIMATED if unreported else REPORTED
        parts = [((day, persona, model, source), [run[i::7] for i in range(5)], costs)]
    else:
        parts = [
            (
                (_day(ts), persona, model, ESTIMATED if c is None else REPORTED),
                [[inp], [out], [read], [write], [reasoning]],
                [c],
            )
            for inp, out, read, write, reasoning, c, ts in usage_records_of(run)
        ]
    for key, counts, dollars in parts:
        totals = merged.get(key)
        if totals is None:
            totals = merged[key] = list(_NO_TOTALS)
        for index, column in enumerate(counts):
            totals[index] += sum(column)
        if key[3] == REPORTED:
            totals[5] += sum(dollars)


__all__ = [
    "DAILY_COLUMNS",
    "DAILY_KEY",
    "DAILY_TABLE",
    "DAILY_TOTALS",
    "ESTIMATED",
    "ON_CONFLICT_ADD",
    "REPORTED",
    "SECONDS_PER_DAY",
    "UPSERT",
    "daily_rows",
]
