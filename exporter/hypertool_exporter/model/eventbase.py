"""What every event class is made of: an immutable tuple of its fields, with
accessors derived from its ``__new__`` (``event_class``).

Stdlib only, and no ``typing`` at run time: the recording CLI loads this.
"""

from __future__ import annotations

from operator import itemgetter

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows CLI start-up
    from typing import Any


tuple_new = tuple.__new__


if TYPE_CHECKING:
    _Fields = tuple[Any, ...]
else:
    _Fields = tuple


class EventRecord(_Fields):
    """An event: an immutable tuple of its fields, with the event's type taken
    into equality and hashing.

    Built in about 0.2 us, which the in-process hot path needs (a slotted
    class with ``__setattr__`` guards costs four times as much), and created
    without ``collections.namedtuple``'s ``exec`` at import, which the
    recording CLI's start-up budget needs. Each subclass writes its fields
    once, as the parameters of its ``__new__``; ``event_class`` derives the rest.
    """

    __slots__ = ()
    TYPE = ""
    _fields: tuple[str, ...] = ()
    _field_defaults: dict[str, Any] = {}

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and tuple.__eq__(self, other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((type(self), tuple(self)))

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={v!r}" for n, v in zip(self._fields, self, strict=True))
        return f"{type(self).__name__}({fields})"

    if TYPE_CHECKING:

        @classmethod
        def parse(cls, raw: dict[str, Any], received: float | None = None) -> Any: ...

    def __reduce__(self) -> tuple[Any, ...]:
        # Unpickled by ``tuple.__new__`` itself, not through the class's
        # ``__new__`` and its parameters: the events a mapping worker sends
        # back load in half the time in ``serve``, which is their limit.
        return tuple_new, (type(self), tuple(self))


def event_class(cls: type[EventRecord]) -> type[EventRecord]:
    """Give an event class its field names, defaults and accessors, read from
    the parameters of its ``__new__``."""
    code = cls.__new__.__code__
    names = code.co_varnames[1 : code.co_argcount]
    defaults = cls.__new__.__defaults__ or ()
    cls._fields = names
    cls._field_defaults = dict(zip(names[len(names) - len(defaults) :], defaults, strict=True))
    for index, name in enumerate(names):
        setattr(cls, name, property(itemgetter(index), doc=f"Field {index}: {name}."))
    return cls


__all__ = ["EventRecord", "event_class", "tuple_new"]
