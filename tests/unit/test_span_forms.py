"""Spans whose label values were seen before (``model.label_forms`` in
``model.genai``): built from the values' validated form, they map to the
events a first span maps to, and their numbers are refused as a first
span's are, naming the same field."""

import itertools
import time

import pytest

from hypertool_exporter.model.fields import EventError
from hypertool_exporter.model.genai import SpanMapping, SpanRecord, span_events

NOW = time.time()
TRACE = "5b8efff798038103d269b633813fc60c"
#: A fresh persona per span set: the forms are kept per process, so each
#: test's first span is one no other test has mapped.
_PERSONAS = (f"QA Lead {n}" for n in itertools.count())


def span(attributes, *, trace=TRACE, status=0, end=NOW - 1):
    end_ns = int(end * 1e9)
    return SpanRecord(
        trace,
        "00f067aa0ba902b7",
        None,
        "chat",
        end_ns - 1_500_000_000,
        end_ns,
        attributes,
        {},
        status,
    )


def mapped(record):
    return span_events(record, SpanMapping(), NOW)


def chat(persona, **more):
    return {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": " openai ",
        "gen_ai.request.model": " gpt-4o ",
        "gen_ai.usage.input_tokens": 600,
        "gen_ai.usage.output_tokens": 250,
        "user.id": persona,
        "session.id": " implement ",
        **more,
    }


#: Spans that map to tokens and a call in different ways.
SPANS = {
    "usage and a call": lambda p: span(chat(p)),
    "cache and reasoning": lambda p: span(
        chat(
            p,
            **{
                "gen_ai.usage.cache_read.input_tokens": 100,
                "gen_ai.usage.cache_creation.input_tokens": 20,
                "gen_ai.usage.reasoning.output_tokens": 50,
            },
        )
    ),
    "an error": lambda p: span(chat(p, **{"error.type": " RateLimit "})),
    "an error status": lambda p: span(chat(p), status=2),
    "no usage": lambda p: span({"gen_ai.operation.name": "chat", "user.id": p}),
    "an estimate": lambda p: span(chat(p, **{"gen_ai.usage.cost": 0.004}), trace="ab" * 16),
    "no trace id": lambda p: span(chat(p), trace="ab" * 8),
}


@pytest.mark.parametrize("name", SPANS)
def test_a_span_with_labels_seen_before_maps_to_what_the_first_did(name):
    persona = next(_PERSONAS)
    first, again, third = (mapped(SPANS[name](persona)) for _ in range(3))
    assert first and first == again == third
    for one, other in zip(first, again, strict=True):
        assert type(one) is type(other)
        assert [type(v) for v in one] == [type(v) for v in other]  # 600 is not 600.0


#: Numbers that break one rule each: (attributes added, the span's end).
BAD = {
    "reasoning past the output": ({"gen_ai.usage.reasoning.output_tokens": 251}, NOW - 1),
    "an end an hour ahead": ({}, NOW + 3600),
    "an end a year back": ({}, NOW - 366 * 86400),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_number_beside_labels_seen_before_is_refused_as_a_first_spans_is(name):
    more, end = BAD[name]
    with pytest.raises(EventError) as first:  # labels never seen: validated whole
        mapped(span(chat(next(_PERSONAS), **more), end=end))
    persona = next(_PERSONAS)
    mapped(span(chat(persona)))  # seen now
    with pytest.raises(EventError) as again:
        mapped(span(chat(persona, **more), end=end))
    assert (again.value.field, str(again.value)) == (first.value.field, str(first.value))


def test_a_bad_trace_id_beside_labels_seen_before_is_refused_by_name():
    persona = next(_PERSONAS)
    mapped(span(chat(persona)))
    for trace in ("5B8EFFF798038103D269B633813FC60C", "0" * 32, "zz" * 16):
        with pytest.raises(EventError) as refused:
            mapped(span(chat(persona), trace=trace))
        assert refused.value.field == "trace_id"
