"""Events as journal rows, and rows back as events.

A row (schema 4) is small: about 41 bytes on disk for a token event, against
about 195 for schema 2's JSON objects and 125 for schema 3's arrays.

- ``kind``: a small integer per event class (``KINDS``; a code is never reused);
- ``ts``: the event's time, in its own column (compaction and lag read it);
- ``body``: the other field values, in the order the class declares them, as
  a JSON array, the trailing ones at their default left out. Every name
  (persona, model, chat mode, workflow, stage, ...) is the id of its row in
  the ``names`` table, which holds each distinct name once; trace ids, one
  per trace, are kept as they are.

How each class lies in a row, and the reader of each layout a row can
have, is ``layouts``. The price is a rule, held by a test: a field is only
ever added at the end of its class. A positional row was validated when it
was appended, and a replay never refuses what was once accepted: it is
rebuilt without validating again; only its values' types and signs are
checked, so that a row damaged by hand can neither reach the fold as the
wrong kind of value nor turn a counter down.

``decode_v3`` reads the rows of older journals (schema 3's arrays with the
time inside, and the JSON objects before them) for the migration.

Stdlib only, and ``orjson`` only once a process has it loaded (``serve`` and
the journal writer do): the recording CLI encodes its one row with the few
lines here, which ``orjson`` or ``json`` would cost a fifth to a third of its
start-up.
"""

from __future__ import annotations

import sys

from ..model.events import (
    EVENT_CLASSES,
    PLAIN_TOKENS_TAIL,
    TOKENS_OPTIONAL_FROM,
    TokensUsed,
    from_validated,
    parse_event,
)
from ..model.fields import MALFORMED, UNKNOWN_TYPE, EventError
from .layouts import KINDS, LAYOUTS, REQUIRED, SHAPE_OF, SHAPES, UNINTERNED, Shape, layout_of

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows CLI start-up
    from collections.abc import Callable, Sequence
    from typing import Any

    from ..model.events import Event
    from ..model.runs import Run

#: Events (schema 4): a kind code, the time, a positional body.
EVENTS_TABLE = (
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "ts REAL NOT NULL, kind INTEGER NOT NULL, body TEXT NOT NULL)"
)
#: Each name (persona, model, chat mode, ...) once; rows refer to it by id.
NAMES_TABLE = "CREATE TABLE IF NOT EXISTS names (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"
#: A journal row that is not an event: (its id, the reason code, why).
Rejection = tuple[int, str, str]
#: Token rows' kind.
TOKENS_KIND = KINDS[TokensUsed.TYPE]


def names_of(event: Event) -> list[str]:
    """The names ``event``'s row refers to (to be given ids before ``encode``)."""
    return [v for i in SHAPE_OF[type(event)].fields_named if (v := event[i]) is not None]


def encode_all(
    events: Sequence[Event], ids: dict[str, int], templates: dict[type, Any] | None = None
) -> tuple[list[tuple[Any, ...]], list[int]]:
    """The rows of ``events`` (as ``encode`` makes them), ``ids`` giving each
    name's id, and the positions of the events that name a name ``ids`` lacks
    (their rows are ``()``, to be encoded once their names have ids).

    An append's loop. The journal's most frequent row, a plain token event,
    is written out here: its label set's ids are looked up once a batch, and
    each row is its two counts (validated whole numbers) between them. With
    ``templates`` (a journal connection's, ``templates.row``; ``ids`` then
    being committed names, which never change) and orjson loaded, the other
    rows are written into their templates."""
    rows: list[tuple[Any, ...]] = []
    later: list[int] = []
    add, name_id, plain, cut = rows.append, ids.__getitem__, PLAIN_TOKENS_TAIL, TOKENS_OPTIONAL_FROM
    ends: dict[tuple[str, str, str], tuple[str, str]] = {}  # label set -> the row around its counts
    orjson = sys.modules.get("orjson")
    written = templates is not None and orjson is not None  # never so in the recording CLI
    if written:
        from .templates import row as template
    for index, event in enumerate(events):
        try:
            if type(event) is TokensUsed:  # too many numbers for a template
                if event[cut:] != plain:
                    add(encode(event, name_id))
                    continue
                persona, model, inp, out, chatmode, ts = event[:cut]
                labels = (persona, model, chatmode)
                end = ends.get(labels)
                if end is None:
                    end = ends[labels] = plain_ends(persona, model, chatmode, name_id)
                add((ts, TOKENS_KIND, f"{end[0]}{inp},{out}{end[1]}"))
            elif written:
                row = template(templates, event, name_id, orjson.dumps)  # type: ignore[arg-type,union-attr]  # both set
                add(row or encode(event, name_id))
            else:
                add(encode(event, name_id))
        except KeyError:  # a name without an id yet
            add(())
            later.append(index)
    return rows, later


def plain_ends(
    persona: str, model: str, chatmode: str, name_id: Callable[[str], int]
) -> tuple[str, str]:
    """A plain token row's body around its two counts: ``[persona, model,``
    and ``,chat mode]``, the names as their ids."""
    return f"[{name_id(persona)},{name_id(model)},", f",{name_id(chatmode)}]"


def encode(event: Event, name_id: Callable[[str], int]) -> tuple[float, int, str]:
    """(ts, kind, body) of ``event``'s row; ``name_id`` gives each name's id
    (``KeyError`` for a name it has none for). One row at a time; an
    append's loop is ``encode_all``, which gives the same rows."""
    shape = SHAPE_OF[type(event)]
    values = shape.body(event, name_id)
    orjson = sys.modules.get("orjson")
    body = orjson.dumps(values).decode() if orjson else "[" + ",".join(map(json_text, values)) + "]"
    return event[shape.ts], KINDS[event.TYPE], body


def decode(
    kind: int, ts: float, body: str, names: dict[int, str], name_of: Callable[[int], str]
) -> Event:
    """The event of a row, its names looked up in ``names`` (else ``name_of``);
    ``EventError`` or ``ValueError`` for a row that is not one, naming the
    field. One row at a time; a replay's loop is ``decode_rows``."""
    import orjson

    shape = SHAPES.get(kind)
    if shape is None:
        raise EventError("kind", kind, f"must be one of {sorted(SHAPES)}", code=UNKNOWN_TYPE)
    raw = orjson.loads(body)
    if not isinstance(raw, list) or len(raw) > len(shape.defaults):
        raise EventError("body", body[:80], f"is not a row of {shape.cls.TYPE}")
    values = raw + list(shape.defaults[len(raw) :])
    for index in shape.names:
        value = values[index]
        if type(value) is int:
            values[index] = names.get(value) or name_of(value)
    if tuple(map(type, values)) not in shape.signatures:
        _check(shape, values)
    for index in shape.numbers:
        value = values[index]
        if value is not None and value < 0:
            _check(shape, values)  # says which
    values.insert(shape.ts, float(ts))
    event: Event = from_validated(shape.cls, values)  # type: ignore[assignment]  # shape.cls is an Event class
    return event


#: The events of some rows as columns (their classes, their field values)
#: and the rows that are not events.
Columns = tuple[list[type], list["list[Any] | tuple[Any, ...]"], list[Rejection]]
#: The same as events, and the rows that are not events.
Decoded = tuple["list[Event]", list[Rejection]]
#: A replay's plain token rows as runs: label set (persona, chat mode,
#: model) -> its records, three numbers each (``model.runs``).
Runs = dict[tuple[str, str, str], "list[Any]"]
#: The kind and length of a plain token row: its optional fields all left
#: out (a replay folds such rows as runs; a split replay's sample prices them so).
PLAIN_ROW = (TOKENS_KIND, TOKENS_OPTIONAL_FROM - 1)


def decode_rows(
    rows: list[tuple[Any, ...]],
    names: dict[int, str],
    name_of: Callable[[int], str],
    runs: Runs | None = None,
) -> Columns:
    """The events of ``rows`` (as ``read_after`` gives them), in order, as two
    columns, their classes and their field values (``from_validated`` makes
    each an event; a replay's helper sends them as they are), and the rows
    that are not events.

    The loop of a replay, so the common row takes two calls: ``orjson.loads``
    and the reader of its layout (``layouts``), found by its kind and
    length, which checks the values' types as it reads them. A row its
    reader refuses goes through ``decode``, which reads what is unusual (a
    whole number where a float is due, a name written as text, a name not
    read yet) and says what is wrong with the rest.

    With ``runs``, a plain token row of a label set ``runs`` holds is added
    to its run as three numbers instead of becoming an event; the caller
    folds the runs after the events (``MetricState.apply_runs``). That
    changes no total: such a record only adds to what its label set's first
    record set up (``fold.batches``). The first row of each label set stays
    an event, in its place, and enters its label set in ``runs`` (with an
    empty run), so that label values are admitted in the journal's order."""
    import orjson

    loads, layouts = orjson.loads, LAYOUTS
    classes: list[type] = []
    values: list[list[Any] | tuple[Any, ...]] = []
    rejected: list[Rejection] = []
    add_class, add_values = classes.append, values.append
    for row_id, kind, ts, body in rows:
        try:
            raw = loads(body)
        except ValueError:  # not JSON: decode says so
            raw = None
        if type(raw) is list and type(ts) is float:  # a REAL column gives floats
            key = (kind, len(raw))
            if runs is not None and key == PLAIN_ROW and _join_run(raw, ts, names, runs):
                continue
            layout = layouts.get(key) or layout_of(key)
            if layout is not None:
                try:
                    event_values = layout.read(raw, names, ts)
                except KeyError:  # a name not read yet (or not in the journal: decode says so)
                    event_values = None
                if event_values is not None:
                    add_class(layout.cls)
                    add_values(event_values)
                    continue
        try:
            event = decode(kind, ts, body, names, name_of)
        except (EventError, ValueError) as exc:
            code = exc.code if isinstance(exc, EventError) else MALFORMED
            rejected.append((row_id, code, str(exc)))
            continue
        add_class(type(event))
        add_values(tuple(event))
    return classes, values, rejected


def _join_run(raw: list[Any], ts: float, names: dict[int, str], runs: Runs) -> bool:
    """Add the plain token row ``raw`` to its label set's run in ``runs``, if
    ``runs`` holds the label set; else enter it (with an empty run) when the
    row is one the reader of its layout reads, to be made an event."""
    persona, model, input_tokens, output_tokens, chatmode = raw
    if (
        type(input_tokens) is int and type(output_tokens) is int
        and input_tokens >= 0 and output_tokens >= 0
        and type(persona) is int and type(model) is int and type(chatmode) is int
    ):  # fmt: skip
        labels = (names.get(persona), names.get(chatmode), names.get(model))
        run = runs.get(labels)  # type: ignore[arg-type]  # a name not read yet: None, no run
        if run is not None:
            run += (input_tokens, output_tokens, ts)
            return True
        if None not in labels:
            runs[labels] = []  # type: ignore[index]  # names, all three
    return False


def take_runs(runs: Runs) -> list[Run]:
    """The runs ``runs`` holds records in, taken out: each label set stays,
    with an empty run (its first record is folded: the rest may be runs)."""
    taken = [(labels, run) for labels, run in runs.items() if run]
    for labels, _ in taken:
        runs[labels] = []
    return taken


def _check(shape: Shape, values: list[Any]) -> None:
    """Types and signs of a row's values, in place (whole numbers where a
    float is due become floats)."""
    for index, value in enumerate(values):
        kind = type(value)
        if value is REQUIRED:
            raise EventError(shape.field(index), None, "is missing from the journal row")
        if kind not in shape.kinds[index]:
            if kind is not int or float not in shape.kinds[index]:
                raise EventError(shape.field(index), value, "has the wrong type for a journal row")
            value = values[index] = float(value)  # a whole number written as one
        if (kind is int or kind is float) and value < 0:  # counts, times, money: never below 0
            raise EventError(shape.field(index), value, "must not be negative")


def decode_v3(kind: str, body: str) -> Event:
    """The event of a schema 3 row (its ``type`` text and body: an array of all
    fields, the time included) or of an older one (a JSON object)."""
    import orjson

    raw = orjson.loads(body)
    if not isinstance(raw, list):
        return parse_event(raw)
    cls = EVENT_CLASSES.get(kind)
    if cls is None:
        raise EventError(
            "type", kind, f"must be one of {', '.join(EVENT_CLASSES)}", code=UNKNOWN_TYPE
        )
    shape = SHAPE_OF[cls]
    if len(raw) > len(cls._fields):
        raise EventError("body", body[:80], f"has more values than {kind} has fields")
    full = raw + [cls._field_defaults.get(n) for n in cls._fields[len(raw) :]]
    ts = full.pop(shape.ts)
    if type(ts) not in (int, float):
        raise EventError("ts", ts, "has the wrong type for a journal row")
    _check(shape, full)
    full.insert(shape.ts, float(ts))
    return from_validated(cls, full)


def json_text(value: Any) -> str:
    """One value as JSON: names are ids here, so only numbers, flags, null and
    trace ids (hex) remain."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)  # finite: validation refuses NaN and infinities
    text = value.replace("\\", "\\\\").replace('"', '\\"')
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() else f"\\u{ord(ch):04x}" for ch in text)
    return f'"{text}"'


__all__ = [
    "EVENTS_TABLE",
    "KINDS",
    "NAMES_TABLE",
    "PLAIN_ROW",
    "TOKENS_KIND",
    "UNINTERNED",
    "Columns",
    "Decoded",
    "Rejection",
    "Runs",
    "decode",
    "decode_rows",
    "decode_v3",
    "encode",
    "encode_all",
    "json_text",
    "names_of",
    "plain_ends",
    "take_runs",
]
