"""A replay's row readers (``journal.layouts``, one per kind and length,
checking types as they read) against ``rows.decode``, the one-row path that
converts what is unusual and says what is wrong: for any row, as written or
damaged, a replay reads what ``decode`` reads, or refuses it as it does."""

from hypothesis import given, settings
from hypothesis import strategies as st

from hypertool_exporter.journal.layouts import KINDS, SHAPES
from hypertool_exporter.journal.rows import decode, decode_rows
from hypertool_exporter.model.events import from_validated
from hypertool_exporter.model.fields import MALFORMED, EventError

#: Name ids 1-3 are read; 4 is one the journal does not hold.
NAMES = {1: "alpha", 2: "beta", 3: "gamma"}

#: Values a damaged row may hold where any field is: ids, whole numbers
#: that are not ids or are below 0, floats, flags, text, null, nesting.
_VALUES = st.one_of(
    st.sampled_from([1, 2, 3]),
    st.integers(0, 10**6),
    st.integers(-3, -1),
    st.floats(0.0, 1e6),
    st.floats(-5.0, -0.0),
    st.booleans(),
    st.none(),
    st.sampled_from(["alpha", "4f2a", ""]),
    st.lists(st.integers(0, 3), max_size=2),
)


@st.composite
def _bodies(draw: st.DrawFn, kind: int) -> list:
    """A row's values: as the journal writes them for ``kind``'s class (a
    value of one of each field's types, names as ids, trailing fields left
    out), then some of them damaged."""
    shape = SHAPES.get(kind)
    if shape is None:
        return draw(st.lists(_VALUES, max_size=6))
    values = []
    for index, kinds in enumerate(shape.kinds):
        kind_of = draw(st.sampled_from(sorted(kinds, key=str)))
        if index in shape.names and kind_of is str:
            values.append(draw(st.sampled_from([1, 2, 3])))
        else:
            values.append(draw(_OF_TYPE[kind_of]))
    values = values[: draw(st.integers(0, len(values)))]
    for _ in range(draw(st.integers(0, 2))):
        if values:
            values[draw(st.integers(0, len(values) - 1))] = draw(_VALUES)
    return values + draw(st.lists(_VALUES, max_size=1))


_OF_TYPE = {
    str: st.sampled_from(["4f2a", "trace"]),
    int: st.integers(0, 10**6),
    float: st.floats(0, 1e6),
    bool: st.booleans(),
    type(None): st.none(),
}
_ROWS = st.sampled_from([*KINDS.values(), 0, 99]).flatmap(
    lambda kind: st.tuples(
        st.integers(1, 1000),
        st.just(kind),
        st.one_of(st.floats(0, 2e9), st.integers(0, 2e9)),
        _bodies(kind),
    )
)


def _name_of(name_id: int) -> str:
    raise EventError("body", name_id, "refers to a name the journal does not hold")


def _one_at_a_time(row_id: int, kind: int, ts: float, body: str) -> tuple:
    """What ``decode`` makes of one row: ``("event", values)`` or ``("refused", code, why)``."""
    try:
        return ("event", tuple(decode(kind, ts, body, NAMES, _name_of)))
    except EventError as exc:
        return ("refused", exc.code, str(exc))
    except ValueError as exc:
        return ("refused", MALFORMED, str(exc))


@settings(max_examples=400, deadline=None)
@given(rows=st.lists(_ROWS, max_size=20), not_json=st.sets(st.integers(0, 19), max_size=3))
def test_a_replay_reads_each_row_as_decoding_it_alone_does(rows, not_json):
    import orjson

    written = [
        (row_id, kind, ts, "[oops" if index in not_json else orjson.dumps(values).decode())
        for index, (row_id, kind, ts, values) in enumerate(rows)
    ]
    classes, values, rejected = decode_rows(written, NAMES, _name_of)
    events = iter(map(from_validated, classes, values))
    refusals = iter(rejected)
    for row in written:
        expected = _one_at_a_time(*row)
        if expected[0] == "event":
            event = next(events)
            assert (type(event).__name__, tuple(event)) == (
                type(decode(*row[1:], NAMES, _name_of)).__name__,
                expected[1],
            ), row
            # Exactly the types the event declares: no id or whole number
            # standing where a name or a float belongs.
            assert list(map(type, event)) == list(map(type, expected[1])), row
        else:
            assert next(refusals) == (row[0], *expected[1:]), row
    assert next(events, None) is None
    assert next(refusals, None) is None


def test_the_usual_rows_are_read_by_their_layout_without_decoding_them_one_by_one(monkeypatch):
    """The rows the journal writes take the readers' way: ``decode`` is the
    way of what is unusual, and is not called for them."""
    import hypertool_exporter.journal.rows as rows_module

    def refuse(*_args):
        raise AssertionError("decoded one by one")

    monkeypatch.setattr(rows_module, "decode", refuse)
    written = [
        (1, KINDS["tokens_used"], 10.0, "[1,2,500,100,3]"),
        (2, KINDS["persona_switched"], 11.0, "[1,3,null,2]"),
        (3, KINDS["persona_switched"], 12.0, "[2,3,1,2]"),
        (4, KINDS["stage_finished"], 13.0, '[1,2,3,12.5,null,"4f2a"]'),
        (5, KINDS["llm_call_finished"], 14.0, "[1,2,0.8]"),
    ]
    classes, values, rejected = decode_rows(written, NAMES, _name_of)
    assert [cls.__name__ for cls in classes] == [
        "TokensUsed",
        "PersonaSwitched",
        "PersonaSwitched",
        "StageFinished",
        "LLMCallFinished",
    ]
    assert values[1][:3] == ["alpha", "gamma", None] and values[2][2] == "alpha"
    assert rejected == []
