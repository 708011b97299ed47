"""How each event class lies in a journal row, and a reader made for each
layout a row can have.

A row's body holds an event's field values in the order its class declares
them, the time left out (it has its own column), names as ids, the trailing
fields at their defaults left out (``rows``). Which of its values are names,
which are numbers that must not be below 0, where the time goes and which
defaults fill the rest follows from the class and from how many values the
row holds: its layout. A replay meets a handful of layouts in millions of
rows, so each layout gets a function of its own, written out from the
class's declaration when the layout is first met (as
``collections.namedtuple`` and ``dataclasses`` write theirs): a row becomes
its event's values in one call, its types checked on the way, with no loop
over its fields.

Stdlib and ``model.events`` only: the recording CLI imports ``rows``.
"""

from __future__ import annotations

import itertools

from ..model.events import EVENT_CLASSES

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows CLI start-up
    from collections.abc import Callable
    from typing import Any

    from ..model.events import EventClass

#: Event type -> the ``kind`` code of its rows. Codes are never reused.
KINDS = {
    "persona_switched": 1,
    "tokens_used": 2,
    "stage_finished": 3,
    "llm_call_finished": 4,
    "workflow_run_finished": 5,
    "tool_call_finished": 6,
    "quality_scored": 7,
    "workflow_charged": 8,
}
#: Fields kept as they are, though they hold text: one value per trace.
UNINTERNED = frozenset({"trace_id"})

_TYPES = {"str": str, "int": int, "float": float, "bool": bool, "None": type(None)}
#: Marks a field without a default: no value equals it.
REQUIRED = object()
#: Defaults a reader writes as literals (every default the event classes have).
_LITERAL_TYPES = (type(None), bool, int, float, str)


class Shape:
    """How one event class is laid out in a row, read from the annotations of
    its ``__new__`` (``str | None``...)."""

    __slots__ = (
        "cls",
        "defaults",
        "fields_named",
        "kinds",
        "names",
        "numbers",
        "signatures",
        "ts",
    )

    def __init__(self, cls: EventClass):
        hints = cls.__new__.__annotations__
        fields = [name for name in cls._fields if name != "ts"]
        self.cls = cls
        self.ts = cls._fields.index("ts")
        self.defaults = tuple(cls._field_defaults.get(name, REQUIRED) for name in fields)
        self.kinds = tuple(
            frozenset(_TYPES[part.strip()] for part in hints[name].split("|")) for name in fields
        )
        #: Positions (in the body) of the fields stored as name ids...
        self.names = tuple(
            i for i, name in enumerate(fields) if str in self.kinds[i] and name not in UNINTERNED
        )
        #: ... and the same fields' positions in the event.
        self.fields_named = tuple(cls._fields.index(fields[i]) for i in self.names)
        #: Every sequence of value types a row may hold as it is (no conversion).
        self.signatures = frozenset(itertools.product(*self.kinds))
        #: Positions of the numbers (counts, seconds, dollars), never below 0.
        self.numbers = tuple(i for i, k in enumerate(self.kinds) if int in k or float in k)

    def layout(self, length: int) -> Layout | None:
        """The ``Layout`` of rows of ``length`` values (None: a row of this
        class holds at most one per field, and may not leave out a field
        that has no default)."""
        if length > len(self.defaults) or REQUIRED in self.defaults[length:]:
            return None
        return Layout(self, length)

    def body(self, event: Any, name_id: Callable[[str], int]) -> list[Any]:
        """The values of ``event``'s row body: its fields but the time, names
        as their ids (``KeyError`` for a name ``name_id`` has none for), the
        trailing defaults left out (``rows.encode`` writes them as JSON)."""
        values = list(event)
        del values[self.ts]
        for index in self.names:
            name = values[index]
            if name is not None:
                values[index] = name_id(name)
        defaults, end = self.defaults, len(values)
        while end and values[end - 1] == defaults[end - 1]:  # an id (int) never equals a name
            end -= 1
        del values[end:]
        return values

    def field(self, index: int) -> str:
        """The name of the field at body position ``index``."""
        return [name for name in self.cls._fields if name != "ts"][index]


class Layout:
    """Rows of one class that hold ``length`` values.

    ``read(body values, names, time)`` gives the event's field values: names
    looked up (``KeyError`` for an id not in ``names``), the time in its
    place, the fields left out at their defaults; or ``None`` when a value
    is not what the row may hold as it is (a name written as text, a whole
    number where a float is due, a number below 0...): ``rows.decode``
    then converts it or says what is wrong. The types are checked in the
    reader, one test a value, rather than looked up as a tuple of them: a
    replay reads millions of rows, and nearly all of them are as written."""

    __slots__ = ("cls", "read")

    def __init__(self, shape: Shape, length: int):
        named = set(shape.names)
        tests = [_test(f"v{i}", shape.kinds[i], i in named) for i in range(length)]
        values = [
            (f"(None if v{i} is None else names[v{i}])" if type(None) in shape.kinds[i]
             else f"names[v{i}]") if i in named else f"v{i}"
            for i in range(length)
        ]  # fmt: skip
        values += [_literal(default) for default in shape.defaults[length:]]
        values.insert(shape.ts, "ts")
        unpack = "".join(f"v{i}, " for i in range(length)) + "= raw" if length else "pass"
        source = (
            f"def read(raw, names, ts):\n    {unpack}\n"
            f"    if {' and '.join(tests) or 'True'}:\n"
            f"        return [{', '.join(values)}]\n"
            "    return None\n"
        )
        scope: dict[Any, Any] = {}
        exec(source, scope)  # written from the class's declaration, never from a row
        self.cls = shape.cls
        #: The reader written for this layout.
        self.read: Callable[[list[Any], dict[Any, Any], float], list[Any] | None] = scope["read"]


def _test(name: str, kinds: frozenset[type], named: bool) -> str:
    """The test that the value ``name`` is one a row may hold as it is for a
    field of ``kinds``: a name's id (an int), or one of the field's own
    types, exactly (``bool`` is no ``int`` here); a number not below 0."""
    types = {int} if named else kinds - {type(None)}
    test = " or ".join(f"type({name}) is {kind.__name__}" for kind in sorted(types, key=str))
    if not named and types & {int, float}:  # counts, times, money: never below 0
        test = f"({test}) and {name} >= 0"
    if type(None) in kinds:
        test = f"{name} is None or ({test})"
    return f"({test})"


def _literal(value: object) -> str:
    """``value`` (a field's default) as Python source."""
    if type(value) not in _LITERAL_TYPES:
        raise TypeError(f"a default of {value!r} cannot be written into a row reader")
    return repr(value)


#: (kind, number of values) of rows -> their ``Layout`` (None: not an event's).
LAYOUTS: dict[tuple[int, int], Layout | None] = {}
#: Layouts kept at most (a damaged journal cannot grow them without bound).
MOST_LAYOUTS = 1024


def layout_of(key: tuple[int, int]) -> Layout | None:
    """The layout of rows whose kind and number of values are ``key``, found once."""
    if key in LAYOUTS:
        return LAYOUTS[key]
    shape = SHAPES.get(key[0])
    layout = None if shape is None else shape.layout(key[1])
    if len(LAYOUTS) < MOST_LAYOUTS:
        LAYOUTS[key] = layout
    return layout


#: Row kind -> its class's shape; class -> its shape.
SHAPES = {KINDS[name]: Shape(cls) for name, cls in EVENT_CLASSES.items()}
SHAPE_OF = {shape.cls: shape for shape in SHAPES.values()}

__all__ = [
    "KINDS",
    "LAYOUTS",
    "MOST_LAYOUTS",
    "REQUIRED",
    "SHAPES",
    "SHAPE_OF",
    "UNINTERNED",
    "Layout",
    "Shape",
    "layout_of",
]
