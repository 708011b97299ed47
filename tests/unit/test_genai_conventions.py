"""The OTLP mapping (model.genai_conventions, read by model.genai_usage):
every row read as it says, each library's own ways, cost ranks, one call
counted once across traces and across a library's request/usage spans."""

import json
import time

import pytest

from hypertool_exporter.exposition.snapshot import take_snapshot
from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.http.spans import SpanIngest
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model import genai_conventions as conventions
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.events import LLMCallFinished, TokensUsed
from hypertool_exporter.model.fields import EventError
from hypertool_exporter.model.genai import SpanMapping, SpanRecord, span_events
from hypertool_exporter.model.genai_usage import read_cost, read_usage

NOW = time.time()
TRACE = "5b8efff798038103d269b633813fc60c"
OTHER_TRACE = "0af7651916cd43dd8448eb211c80319c"


def span(attributes, *, scope="", span_id="00f067aa0ba902b7", parent=None, trace=TRACE, end=0):
    start = int((NOW - 2) * 1e9)
    return SpanRecord(
        trace, span_id, parent, "chat", start, start + 1_000_000_000 + end, attributes, {},
        scope=scope,
    )  # fmt: skip


def _written(row, count):
    """``count`` where ``row`` says, as a library writes it."""
    if not row.path:
        return {row.attribute: count}
    value: object = count
    for key in reversed(row.path):
        value = {key: value}
    text = repr(value) if row.syntax == "python" else json.dumps(value)
    return {row.attribute: text}


@pytest.mark.parametrize(
    "row", conventions.TOKENS, ids=lambda r: f"{r.attribute}[{'.'.join(r.path)}]->{r.kind}"
)
def test_every_token_row_is_read_as_its_kind(row):
    attributes = _written(row, 7)
    if row.kind not in ("input", "output"):  # a part: beside a whole input and output
        attributes.setdefault("gen_ai.usage.input_tokens", 1000)
        attributes.setdefault("gen_ai.usage.output_tokens", 500)
    usage = read_usage(span(attributes))
    assert usage is not None
    assert usage[row.kind] == 7
    if row.kind not in ("input", "output"):
        assert usage["input"] >= 1000 and usage["output"] >= 500


def test_the_first_row_of_a_kind_wins_and_parts_stay_inside_the_whole():
    usage = read_usage(
        span(
            {
                "gen_ai.usage.input_tokens": 600,
                "gen_ai.usage.prompt_tokens": 999,  # an older name of the same count
                "gen_ai.usage.output_tokens": 250,
                "gen_ai.usage.cache_read.input_tokens": 100,
                "gen_ai.usage.reasoning.output_tokens": 50,
            }
        )
    )
    assert usage == {"input": 600, "output": 250, "cache_read": 100, "reasoning": 50}


@pytest.mark.parametrize(
    "details",
    [
        # flat, Langfuse's own keys: input and output leave the parts out
        {"input": 250, "input_cached_tokens": 100, "output": 90, "output_reasoning_tokens": 30},
        # OpenAI's usage object as it is: the parts are inside the whole
        {
            "prompt_tokens": 350,
            "completion_tokens": 120,
            "prompt_tokens_details": {"cached_tokens": 100},
            "completion_tokens_details": {"reasoning_tokens": 30},
        },
    ],
    ids=["flat", "nested"],
)
def test_langfuse_usage_details_flat_or_nested_read_the_same(details):
    usage = read_usage(span({"langfuse.observation.usage_details": json.dumps(details)}))
    assert usage == {"input": 350, "cache_read": 100, "output": 120, "reasoning": 30}


def test_openlit_anthropic_input_is_the_uncached_part():
    attributes = {
        "gen_ai.usage.input_tokens": 300,
        "gen_ai.usage.output_tokens": 90,
        "gen_ai.usage.cache_read.input_tokens": 200,
        "gen_ai.usage.cache_creation.input_tokens": 50,
        "gen_ai.provider.name": "anthropic",
    }
    openlit = read_usage(span(attributes, scope="openlit.instrumentation.anthropic"), "anthropic")
    assert openlit["input"] == 550
    # the same numbers from a library that follows the conventions: inside already
    sdk = {**attributes, "gen_ai.usage.input_tokens": 550}
    assert read_usage(span(sdk, scope="com.anthropic.sdk.python"), "anthropic")["input"] == 550
    # OpenLIT's OpenAI spans follow OpenAI's way: the cache is inside
    openai = {
        **attributes,
        "gen_ai.usage.input_tokens": 350,
        "gen_ai.usage.cache_read.input_tokens": 100,
    }
    del openai["gen_ai.usage.cache_creation.input_tokens"]
    assert (
        read_usage(span(openai, scope="openlit.instrumentation.openai"), "openai")["input"] == 350
    )


def test_litellm_usage_object_is_a_python_repr_read_as_literals_only():
    usage = {
        "prompt_tokens": 350,
        "completion_tokens_details": {"reasoning_tokens": 30, "audio_tokens": None},
        "prompt_tokens_details": {"cached_tokens": 100},
    }
    attributes = {
        "gen_ai.usage.input_tokens": 350,
        "gen_ai.usage.output_tokens": 120,
        "metadata.usage_object": repr(usage),
    }
    assert read_usage(span(attributes)) == {
        "input": 350,
        "output": 120,
        "cache_read": 100,
        "reasoning": 30,
    }
    # never evaluated: code is not a literal, and the parts are then unknown
    attributes["metadata.usage_object"] = "{'prompt_tokens_details': __import__('os').getcwd()}"
    assert read_usage(span(attributes)) == {"input": 350, "output": 120}


def test_a_bad_count_is_refused_by_its_attribute_and_key():
    details = json.dumps({"input": 5, "output": 1, "input_cached_tokens": -3})
    with pytest.raises(EventError, match="input_cached_tokens"):
        read_usage(span({"langfuse.observation.usage_details": details}))


def test_cost_ranks_reported_beats_estimate_and_a_zero_estimate_is_none():
    assert read_cost(span({"gen_ai.usage.cost": 0})) is None
    assert read_cost(span({"gen_ai.usage.cost": 0.01})) == (0.01, conventions.ESTIMATE)
    both = {
        "operation.cost": 0.02,
        "langfuse.observation.cost_details": json.dumps({"input": 0.1, "output": 0.2}),
    }
    assert read_cost(span(both)) == (pytest.approx(0.3), conventions.REPORTED)
    assert read_cost(span({"gen_ai.cost.total_cost": 0.004})) == (0.004, conventions.ESTIMATE)


def events(attributes, **kwargs):
    return span_events(span(attributes, **kwargs), SpanMapping(), NOW)


CHAT = {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.usage.input_tokens": 350,
    "gen_ai.usage.output_tokens": 120,
}


def test_an_estimate_is_used_only_for_a_model_with_no_price_here():
    [priced, _] = events({**CHAT, "gen_ai.cost.total_cost": 0.5})
    assert (priced.cost_usd, priced.cost_estimate_usd) == (None, 0.5)
    unknown = {**CHAT, "gen_ai.request.model": "in-house-7b", "operation.cost": 0.25}
    [unpriced, _] = events(unknown)
    state = MetricState(parse_config("pricing:\n  gpt-4o-mini: {input: 0.001, output: 0.002}\n"))
    state.apply(priced)
    state.apply(unpriced)
    view = state.view()
    cost = view.counters[c.PERSONA_COST.name]
    assert cost[("unknown", "default", "gpt-4o-mini")] == pytest.approx(0.35 * 0.001 * 1 + 0.24e-3)
    assert cost[("unknown", "default", "in-house-7b")] == 0.25
    reported = view.counters[c.PERSONA_REPORTED_COST.name]
    assert reported == {("unknown", "default", "in-house-7b", "instrumentation"): 0.25}
    assert not view.counters.get(c.PERSONA_UNPRICED_TOKENS.name)
    [family] = [f for f in take_snapshot(state) if f.spec is c.MODEL_PRICE_INFO]
    info = {model: source for (model, source, _date), _ in family.rows}
    assert info == {"gpt-4o-mini": "config", "in-house-7b": "instrumentation"}


def test_a_reported_cost_without_tokens_is_a_cost_and_an_unknown_usage():
    generation = {
        "langfuse.observation.type": "generation",
        "langfuse.observation.model.name": "gpt-4o-mini",
        "langfuse.observation.cost_details": json.dumps({"total": 0.5}),
    }
    tokens, call = events(generation)
    assert (tokens.input_tokens, tokens.output_tokens, tokens.cost_usd) == (0, 0, 0.5)
    assert call.usage_unknown


def test_openinference_chains_name_a_model_but_are_not_calls():
    chain = {"openinference.span.kind": "CHAIN", "llm.model_name": "gpt-4o-mini"}
    assert events(chain) == []
    llm = {**chain, "openinference.span.kind": "LLM"}
    [call] = events(llm)
    assert type(call) is LLMCallFinished and call.model == "gpt-4o-mini"


LOGFIRE = {
    "gen_ai.operation.name": "chat",
    "gen_ai.request.model": "gpt-4o-mini",
    "logfire.span_type": "span",
}


def test_logfire_streams_count_once_from_the_usage_span():
    request = events(LOGFIRE, scope="logfire.openai")
    usage_span = {
        **LOGFIRE,
        "logfire.span_type": "log",
        "duration": 0.75,
        "gen_ai.response.id": "chatcmpl-3",
        "gen_ai.usage.input_tokens": 350,
        "gen_ai.usage.output_tokens": 120,
    }
    tokens, call = events(usage_span, scope="logfire.openai")
    assert request == []  # its usage span follows
    assert (tokens.input_tokens, call.duration_seconds, call.usage_unknown) == (350, 0.75, False)
    # a request that failed is a call, with its error
    failed = span(LOGFIRE, scope="logfire.openai")
    failed.status_code = 2
    [call] = span_events(failed, SpanMapping(), NOW)
    assert call.error_type == "_OTHER"
    # another library's request without usage is a call of unknown usage
    [call] = events(LOGFIRE, scope="opentelemetry.instrumentation.openai")
    assert call.usage_unknown


def ingest():
    written: list = []

    def write(batch, keys):
        written.extend(batch)
        return len(batch)

    return SpanIngest(write), written


def test_one_response_id_counts_once_across_traces_and_libraries():
    spans, written = ingest()
    answer = {**CHAT, "gen_ai.response.id": "msg_0001"}
    spans([span(answer, scope="com.anthropic.sdk.python")], [])
    # OpenLLMetry's span of the same call, in its own trace, under its own parent
    again = span(answer, trace=OTHER_TRACE, span_id="00f067aa0ba902b8", parent="00f067aa0ba902b9")
    parent = span(
        {"langfuse.observation.type": "generation", "langfuse.observation.model.name": "m"},
        trace=OTHER_TRACE,
        span_id="00f067aa0ba902b9",
        end=1,
    )
    spans([again], [])
    spans([parent], [])  # the call is counted already: its wrapper is not a call more
    other = span({**CHAT, "gen_ai.response.id": "msg_0002"}, span_id="00f067aa0ba902c0")
    spans([other], [])
    assert [type(e) for e in written] == [TokensUsed, LLMCallFinished] * 2


def test_a_hand_reported_outer_cost_reaches_the_counted_call():
    spans, written = ingest()
    inner = span(CHAT, span_id="00f067aa0ba902b8", parent="00f067aa0ba902b7")
    outer = span(
        {
            "langfuse.observation.type": "generation",
            "langfuse.observation.model.name": "gpt-4o-mini",
            "langfuse.observation.cost_details": json.dumps({"total": 0.25}),
        },
        end=1,
    )
    spans([inner, outer], [])
    [tokens, call] = written
    assert (tokens.input_tokens, tokens.cost_usd) == (350, 0.25)
    assert type(call) is LLMCallFinished


def test_the_docs_tables_list_every_row():
    from hypertool_exporter.bundle.docs import mapping_tables

    tables = mapping_tables()
    for row in conventions.TOKENS:
        assert f"`{row.attribute}" in tables
    for cost in conventions.COSTS:
        assert f"`{cost.attribute}`" in tables
    assert all(f"#### {heading}" in tables for heading in conventions.LIBRARIES.values())


def test_a_library_repeating_a_response_id_is_counted_each_time():
    """A local server or gateway whose ids repeat: the same library's spans with
    one id are separate calls; only another library's span with it is the same
    call again."""
    spans, written = ingest()
    answer = {**CHAT, "gen_ai.response.id": "chatcmpl-fixed"}
    scope = "opentelemetry.instrumentation.openai"
    for n in range(3):
        spans([span(answer, scope=scope, span_id=f"00f067aa0ba902c{n}")], [])
    other = span(answer, scope="com.anthropic.sdk.python", span_id="00f067aa0ba902d0")
    spans([other], [])
    assert [type(e) for e in written] == [TokensUsed, LLMCallFinished] * 3
