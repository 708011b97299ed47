"""Rows written into the text their label set's rows share, made once.

An event's row is the JSON array of its values, names as their ids and the
trailing defaults left out (``rows.encode``). Rows of one class whose
names, flags and absent values are the same differ only in their numbers
and trace id. So an append writes such a row into a template: the text
around those values, made from the first such event (encoded with a marker
in each of their places, then cut there) and compiled into one f-string.
Why: encoding a row value by value was about a third of what a journalled
call that is not a plain token record costs, and a tenth of what ``serve``
spends recording an OTLP span.

The row is the one ``encode`` writes, byte for byte: the values between
the fixed text are written by orjson, as ``encode`` writes them, and
templates are used only while orjson is loaded (this module too: the
recording CLI, which encodes one row, never loads it). The name ids in a
template are those of one journal connection's committed names, which never
change: each ``Journal`` keeps its own writers. Bounded: past
``MAX_TEMPLATES``, rows are encoded value by value again.
"""

from __future__ import annotations

from .layouts import KINDS, REQUIRED, SHAPE_OF, UNINTERNED

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: the recording CLI imports this
    from collections.abc import Callable
    from typing import Any

    from ..model.events import Event

#: Templates kept per journal connection (label sets times their variants).
MAX_TEMPLATES = 4096
#: Classes with more values written by value than this are encoded whole:
#: building the key of a token event's eight numbers and trace id cost more
#: than orjson writing its row (1.6 against 1.4 us; a tool call's template
#: writes its row in 0.7 us against 1.0).
MOST_SLOTS = 3


class Writer:
    """The rows of one event class: its templates, found by ``key(event)``,
    the names, flags and absent values that decide a row's fixed text."""

    __slots__ = ("fields", "key", "kind", "shape", "slots", "templates", "ts")

    def __init__(self, cls: Any):
        shape = self.shape = SHAPE_OF[cls]
        self.kind = KINDS[cls.TYPE]
        self.ts = shape.ts
        #: The event's index of each body position (the body leaves the time out).
        self.fields = [i for i in range(len(cls._fields)) if i != shape.ts]
        names = [cls._fields[i] for i in self.fields]
        #: Body positions written by value: numbers and the uninterned text (trace ids).
        self.slots = tuple(
            p
            for p, kinds in enumerate(shape.kinds)
            if kinds & {int, float} or (str in kinds and names[p] in UNINTERNED)
        )
        parts = []
        for p, index in enumerate(self.fields):
            default = shape.defaults[p]
            if p not in self.slots:
                parts.append(f"e[{index}]")  # a name, a flag, ...: fixed in the row
            else:  # whether it is written as null, or left out at the end
                parts.append(f"e[{index}] is None")
                if default is not REQUIRED and default is not None:
                    parts.append(f"e[{index}] == {default!r}")
        source = f"def key(e):\n    return ({', '.join(parts)},)\n"
        scope: dict[str, Any] = {}
        exec(source, scope)  # written from the class's declaration, never from a row
        self.key: Callable[[Event], tuple[Any, ...]] = scope["key"]
        #: key -> template; None: this class is encoded whole (``MOST_SLOTS``).
        self.templates: dict[tuple[Any, ...], Any] | None = (
            {} if len(self.slots) <= MOST_SLOTS else None
        )

    def make(
        self, event: Event, name_id: Callable[[str], int], dumps: Callable[[Any], bytes]
    ) -> Any:
        """The template of rows like ``event``'s; ``KeyError`` for a name
        ``name_id`` has no id for (the row then waits for its names)."""
        shape = self.shape
        values = shape.body(event, name_id)
        written = [p for p in self.slots if p < len(values) and values[p] is not None]
        for p in written:
            values[p] = f"@{p}@"  # no other text is in a row: names are ids
        rest = dumps(values).decode()
        text = ""  # an f-string: the fixed text, each value written in its place
        for p in written:
            before, _, rest = rest.partition(f'"@{p}@"')
            whole = shape.kinds[p] <= {int, type(None)}  # as orjson writes a whole number
            value = f"e[{self.fields[p]}]" if whole else f"dumps(e[{self.fields[p]}]).decode()"
            text += _literal(before) + "{" + value + "}"
        source = f"def write(e, dumps):\n    return f{text + _literal(rest)!r}\n"
        scope: dict[str, Any] = {}
        exec(source, scope)  # its text is ids, numbers and JSON punctuation only
        return scope["write"]


def _literal(text: str) -> str:
    """``text`` as the fixed part of an f-string."""
    return text.replace("{", "{{").replace("}", "}}")


def row(
    writers: dict[type, Writer],
    event: Event,
    name_id: Callable[[str], int],
    dumps: Callable[[Any], bytes],
) -> tuple[float, int, str] | None:
    """``event``'s row written into its template, ``writers`` being one
    journal connection's (made now if there is none and there is room: None
    when there is not); ``KeyError`` as ``Writer.make``."""
    writer = writers.get(type(event))
    if writer is None:
        writer = writers[type(event)] = Writer(type(event))
    templates = writer.templates
    if templates is None:
        return None
    key = writer.key(event)
    write = templates.get(key)
    if write is None:
        if sum(len(w.templates or ()) for w in writers.values()) >= MAX_TEMPLATES:
            return None
        write = templates[key] = writer.make(event, name_id, dumps)
    return event[writer.ts], writer.kind, write(event, dumps)


__all__ = ["MAX_TEMPLATES", "MOST_SLOTS", "Writer", "row"]
