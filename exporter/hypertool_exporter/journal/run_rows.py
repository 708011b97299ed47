"""The rows of records in runs (``model.runs``): each the row ``rows.encode``
writes for the event it stands for, byte for byte, written a run at a time.

A run's records share their label set, so their rows share all their text
but the numbers: the text is made once a run, and the numbers of all its
records are written in one call of orjson (as ``encode`` writes each) and
cut apart (numbers and null hold no comma). A switch's record gives names,
not numbers: its row is made once a run for each set of them. Why: encoding
a record's event value by value was a third of what a buffered record cost.

Stdlib only, and ``orjson`` only once a process has it loaded (as ``rows``):
the recording CLI imports this, and never has a run to write.
"""

from __future__ import annotations

import sys

from ..model.runs import PLAIN_LABELS, event_shape, records_of, usage_event, usage_records_of
from .layouts import KINDS
from .rows import TOKENS_KIND, encode, json_text, plain_ends

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it slows CLI start-up
    from collections.abc import Callable, Sequence
    from typing import Any

    from ..model.runs import EventShape, Run


def encode_runs(runs: Sequence[Run], name_id: Callable[[str], int]) -> list[tuple[Any, ...]]:
    """The rows of token records, a run's after another's, each the row
    ``encode`` writes for the token event it stands for."""
    rows: list[tuple[Any, ...]] = []
    for labels, run in runs:
        shape = event_shape(labels)
        if shape is not None:
            rows += _event_rows(shape, labels, run, name_id)
            continue
        if len(labels) != PLAIN_LABELS:
            rows += _usage_rows(labels, run, name_id)
            continue
        persona, chatmode, model = labels
        head, end = plain_ends(persona, model, chatmode, name_id)
        rows += [(ts, TOKENS_KIND, f"{head}{inp},{out}{end}") for inp, out, ts in records_of(run)]
    return rows


def _usage_rows(
    labels: tuple[Any, ...], run: list[Any], name_id: Callable[[str], int]
) -> list[tuple[Any, ...]]:
    """The rows of a run of records with usage options. With a provider,
    nothing after it is written (the row's trailing values are at their
    defaults), so every record's row is the same text around its seven
    numbers; without one, which trailing values are left out varies by
    record, and each is encoded whole."""
    persona, chatmode, model, operation, provider = labels
    if provider is None:
        return [encode(usage_event(labels, record), name_id) for record in usage_records_of(run)]
    head = f"[{name_id(persona)},{name_id(model)},"
    middle = f",{name_id(chatmode)},null,"
    operation_id = "null" if operation is None else name_id(operation)
    end = f",{operation_id},{name_id(provider)}]"
    texts = _texts(run)  # the times' too, left unused: one call for all
    columns = [texts[i::7] for i in range(6)]
    return [
        (ts, TOKENS_KIND, f"{head}{i},{o}{middle}{r},{w},{z},{cost}{end}")
        for i, o, r, w, z, cost, ts in zip(*columns, run[6::7], strict=True)
    ]


#: A duration no record has (below the least positive normal float): it
#: marks where a run's number goes in the row ``encode`` writes for its
#: label set, around which each record's row is the same text.
_MARK = 1.234567890123e-310


def _event_rows(
    shape: EventShape, labels: tuple[Any, ...], run: list[Any], name_id: Callable[[str], int]
) -> list[tuple[Any, ...]]:
    """The rows of an event run (``model.runs``). A record of names (a
    switch: its personas and chat mode) has the row ``encode`` writes for
    its values, made once a run for each distinct set of them. A record of
    one number (a duration) has the row ``encode`` writes for the label
    set, cut where the number goes (no value of such a row depends on the
    number: it is never left out as a default), and every record's number
    written at once, as ``encode`` writes each."""
    if shape.named:
        width = shape.width
        bodies: dict[tuple[Any, ...], str] = {}
        kind = KINDS[shape.cls.TYPE]
        rows: list[tuple[Any, ...]] = []
        for record in zip(*(run[i::width] for i in range(width)), strict=True):
            given = record[:-1]
            body = bodies.get(given)
            if body is None:
                body = bodies[given] = encode(shape.event(labels, *record), name_id)[2]
            rows.append((record[-1], kind, body))
        return rows
    _, kind, body = encode(shape.event(labels, _MARK, 0.0), name_id)
    head, mark, tail = body.partition(_texts([_MARK])[0])
    if not mark:  # cannot happen: the number is written, and written so
        raise AssertionError(f"no number in the row of {shape.cls.TYPE}")
    texts = _texts(run[::2])
    return [(ts, kind, f"{head}{n}{tail}") for n, ts in zip(texts, run[1::2], strict=True)]


def _texts(values: list[Any]) -> list[str]:
    """``values`` (numbers and None) written as ``encode`` writes each: by
    one call of orjson when it is loaded, cut apart (numbers and null hold
    no comma); else one by one as ``rows.json_text``."""
    orjson = sys.modules.get("orjson")
    if orjson is None:
        return list(map(json_text, values))
    text: str = orjson.dumps(values).decode()
    return text[1:-1].split(",")


__all__ = ["encode_runs"]
