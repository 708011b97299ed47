"""OTLP bodies of any shape: decoded, or refused as malformed by name; never an
unexpected exception (which the server would answer with a 500)."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hypertool_exporter.http.otlp import decode_json, decode_protobuf
from hypertool_exporter.http.spans import SpanIngest
from hypertool_exporter.model.fields import EventError

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=20)
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    [
        "resourceSpans", "scopeSpans", "spans", "resource", "attributes", "traceId", "spanId",
        "parentSpanId", "startTimeUnixNano", "endTimeUnixNano", "status", "code", "key", "value",
        "stringValue", "intValue", "doubleValue", "arrayValue", "values", "bytesValue", "name",
    ]
)  # fmt: skip
shaped = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=30,
)


attribute_names = st.sampled_from(
    [
        "gen_ai.usage.input_tokens", "gen_ai.usage.output_tokens", "gen_ai.request.model",
        "gen_ai.operation.name", "gen_ai.usage.cache_read.input_tokens", "user.id",
        "session.id", "error.type", "hypertool.stage.name", "hypertool.workflow.name",
        "hypertool.quality_gate.result", "langfuse.observation.type", "gen_ai.usage.cost",
        "langfuse.observation.usage_details", "langfuse.observation.cost_details",
    ]
)  # fmt: skip
attribute_values = st.dictionaries(
    st.sampled_from(
        ["stringValue", "intValue", "doubleValue", "boolValue", "arrayValue", "bytesValue"]
    ),
    st.one_of(values, st.just('{"input": 3, "output": "x"}'), st.just('{"a": 1, "b": "y"}')),
    max_size=1,
)
span_shaped = st.fixed_dictionaries(
    {
        # Well-formed ids and times, so the attributes are always read (the
        # other strategies reach the ids' own checks).
        "traceId": st.just("5b8efff798038103d269b633813fc60c"),
        "spanId": st.just("00f067aa0ba902b7"),
        "startTimeUnixNano": st.just("1796000000000000000"),
        "endTimeUnixNano": st.just("1796000000500000000"),
        "attributes": st.one_of(
            st.lists(st.fixed_dictionaries({"key": attribute_names, "value": attribute_values})),
            values,
        ),
        "status": st.one_of(st.fixed_dictionaries({"code": values}), values),
    }
)


def _record(spans, refused):
    written = []
    result = SpanIngest(lambda events, keys: written.append(events) or len(events))(spans, refused)
    assert result.rejected >= len(refused)
    return result


@settings(max_examples=600, deadline=None)
@given(
    st.one_of(
        values,
        shaped,
        st.builds(
            lambda spans: {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]},
            st.lists(span_shaped, max_size=4),
        ),
    )
)
def test_any_json_is_decoded_or_refused_by_name(payload):
    body = json.dumps(payload, allow_nan=True).encode()
    try:
        spans, refused = decode_json(body)
    except EventError as exc:
        assert exc.code == "malformed" and exc.field
        return
    _record(spans, refused)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_any_bytes_are_decoded_or_refused_by_name(body):
    try:
        spans, refused = decode_protobuf(body)
    except EventError as exc:
        assert exc.code == "malformed"
        return
    _record(spans, refused)


any_values = st.recursive(
    st.one_of(
        st.tuples(st.just("string_value"), st.text(max_size=8)),  # the empty string too
        st.tuples(st.just("int_value"), st.integers(-(2**63), 2**63 - 1)),
        st.tuples(st.just("double_value"), st.floats(allow_nan=False)),
        st.tuples(st.just("bool_value"), st.booleans()),
        st.tuples(st.just("bytes_value"), st.binary(max_size=4)),
        st.tuples(st.just("kvlist_value"), st.none()),
        st.tuples(st.just("unset"), st.none()),
    ),
    lambda inner: st.tuples(st.just("array_value"), st.lists(inner, max_size=3)),
    max_leaves=8,
)


def _fill(value, kind: str, content) -> object:
    """Set ``value`` (an ``AnyValue``) to ``content`` of ``kind``; the Python
    value a decoder should read from it."""
    if kind == "unset":
        return None
    if kind == "kvlist_value":
        value.kvlist_value.values.add().key = "nested"
        return None  # nested maps name nothing read
    if kind == "array_value":
        value.array_value.SetInParent()  # set, even when empty
        return tuple(_fill(value.array_value.values.add(), *each) for each in content)
    setattr(value, kind, content)
    return content


@given(st.lists(any_values, max_size=6))
@settings(max_examples=200, deadline=None)
def test_protobuf_attributes_read_as_their_kind_says(attributes):
    """Each attribute value of a binary export is read as the kind its
    protobuf field is set to: an empty string is a string, an unset value
    or a nested map nothing, arrays element by element."""
    from opentelemetry.proto.common.v1.common_pb2 import KeyValue

    from hypertool_exporter.http.otlp import pb_attributes

    pairs, expected = [], {}
    for n, (kind, content) in enumerate(attributes):
        pair = KeyValue(key=f"a{n}")
        expected[f"a{n}"] = _fill(pair.value, kind, content)
        pairs.append(pair)
    assert pb_attributes(pairs) == expected
