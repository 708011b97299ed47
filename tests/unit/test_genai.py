"""Spans as events (model.genai), nested spans counted once (model.lineage), the
GenAI convention metrics in the fold, and the config that steers them."""

import asyncio
import dataclasses
import itertools
import time
from types import SimpleNamespace

import pytest

from hypertool_exporter.exposition.snapshot import take_snapshot
from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.instrument.llm import ObservableLLM
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.config import ConfigError, parse_config
from hypertool_exporter.model.events import LLMCallFinished, StageFinished, TokensUsed
from hypertool_exporter.model.fields import EventError
from hypertool_exporter.model.genai import SpanMapping, SpanRecord, span_events
from hypertool_exporter.model.lineage import UsageLineage

NOW = time.time()
TRACE = "5b8efff798038103d269b633813fc60c"


def span(attributes, resource=None, span_id="00f067aa0ba902b7", parent=None, status=0):
    start = int((NOW - 2) * 1e9)
    return SpanRecord(
        TRACE,
        span_id,
        parent,
        "chat",
        start,
        start + 1_500_000_000,
        attributes,
        resource or {},
        status,
    )


def events_of(attributes, **kwargs):
    return span_events(span(attributes, **kwargs), SpanMapping(), NOW)


def test_a_chat_span_is_token_usage_and_a_call():
    tokens, call = events_of(
        {
            "gen_ai.operation.name": "chat",
            "gen_ai.provider.name": "openai",
            "gen_ai.request.model": "gpt-4o",
            "gen_ai.response.model": "gpt-4o-2024-08-06",
            "gen_ai.usage.input_tokens": 600,
            "gen_ai.usage.output_tokens": 250,
            "gen_ai.usage.cache_read.input_tokens": 100,
            "gen_ai.usage.reasoning.output_tokens": 50,
            "user.id": "backend-engineer",
            "session.id": "implement",
        }
    )
    assert type(tokens) is TokensUsed and type(call) is LLMCallFinished
    assert (tokens.persona, tokens.chatmode, tokens.model) == (
        "backend-engineer",
        "implement",
        "gpt-4o",
    )
    assert (tokens.input_tokens, tokens.output_tokens) == (600, 250)
    assert (tokens.cache_read_tokens, tokens.reasoning_tokens) == (100, 50)
    assert (tokens.operation, tokens.provider, tokens.trace_id) == ("chat", "openai", TRACE)
    assert call.duration_seconds == pytest.approx(1.5)
    assert (call.error_type, call.usage_unknown) == (None, False)


def test_older_conventions_and_langfuse_details_are_read():
    [tokens, _] = events_of(
        {
            "gen_ai.system": "anthropic",
            "gen_ai.request.model": "claude-sonnet-4",
            "gen_ai.usage.prompt_tokens": 100,
            "gen_ai.usage.completion_tokens": 20,
            "gen_ai.usage.cache_read_input_tokens": 300,  # Anthropic: beside the input
        }
    )
    assert (tokens.provider, tokens.input_tokens, tokens.cache_read_tokens) == (
        "anthropic",
        400,
        300,
    )
    [tokens, call] = events_of(
        {
            "langfuse.observation.type": "generation",
            "langfuse.observation.model.name": "gpt-4o-mini",
            "langfuse.observation.usage_details": '{"input": 12, "output": 3}',
            "langfuse.observation.cost_details": '{"input": 0.001, "output": 0.002}',
        }
    )
    assert (tokens.model, tokens.input_tokens, tokens.output_tokens) == ("gpt-4o-mini", 12, 3)
    assert tokens.cost_usd == pytest.approx(0.003)
    assert call.model == "gpt-4o-mini"


def test_persona_and_chat_mode_come_from_the_mapping_span_first_then_resource():
    attributes = {"gen_ai.request.model": "m", "gen_ai.usage.input_tokens": 1}
    [tokens, _] = events_of(attributes)
    assert (tokens.persona, tokens.chatmode) == ("unknown", "default")  # never dropped
    [tokens, _] = events_of(
        {**attributes, "gen_ai.agent.name": "planner"},
        resource={"hypertool.persona": "from-resource", "session.id": "c-9"},
    )
    assert (tokens.persona, tokens.chatmode) == ("planner", "c-9")
    mapping = SpanMapping(("team.role",), ("team.mode",))
    [tokens, _] = span_events(span({**attributes, "team.role": "qa", "user.id": "x"}), mapping, NOW)
    assert tokens.persona == "qa"


def test_errors_and_calls_without_usage():
    [call] = events_of({"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"})
    assert call.usage_unknown and call.error_type is None
    [call] = events_of({"gen_ai.operation.name": "chat", "gen_ai.request.model": "m"}, status=2)
    assert (call.error_type, call.usage_unknown) == ("_OTHER", False)
    [call] = events_of(
        {"gen_ai.operation.name": "chat", "gen_ai.request.model": "m", "error.type": "RateLimit"}
    )
    assert call.error_type == "RateLimit"
    assert events_of({"http.route": "/x"}) == []  # not a GenAI span
    assert events_of({"gen_ai.operation.name": "invoke_agent"}) == []  # no call, no usage
    [tokens] = events_of({"gen_ai.operation.name": "invoke_agent", "gen_ai.usage.input_tokens": 9})
    assert tokens.input_tokens == 9  # an agent's usage counts; it is not a call


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (-5, "must not be negative"),
        (1.5, "whole number"),
        ("12", "whole number"),
        (True, "whole number"),
    ],
)
def test_bad_usage_is_refused_naming_the_attribute(value, reason):
    with pytest.raises(EventError, match=reason) as caught:
        events_of({"gen_ai.request.model": "m", "gen_ai.usage.input_tokens": value})
    assert caught.value.field == "gen_ai.usage.input_tokens"


def test_our_stage_spans_become_stage_events():
    [stage] = events_of(
        {
            "hypertool.stage.name": "implement",
            "hypertool.workflow.name": "release",
            "hypertool.quality_gate.result": "failed",
            "user.id": "backend-engineer",
        }
    )
    assert type(stage) is StageFinished
    assert (stage.workflow, stage.stage, stage.persona, stage.gate) == (
        "release",
        "implement",
        "backend-engineer",
        "failed",
    )
    [stage] = events_of({"hypertool.stage.name": "notify", "hypertool.workflow.name": "w"})
    assert stage.gate is None


def _chain():
    """A GenAI span, a plain span under it, and a GenAI span under that: one call."""
    outer = span({}, span_id="a" * 16)
    outer.end_ns += 10
    middle = span({}, span_id="b" * 16, parent="a" * 16)
    middle.end_ns += 5
    inner = span({}, span_id="c" * 16, parent="b" * 16)
    return {"outer": (outer, True), "middle": (middle, False), "inner": (inner, True)}


def _counted(lineage, requests):
    """How many GenAI spans ``requests`` (lists of (span, genai)) counted."""
    total = 0
    for request in requests:
        decisions = lineage.decide([s for s, _ in request], [g for _, g in request])
        lineage.commit(decisions)
        total += sum(c for c, (_, g) in zip(decisions.counts, request, strict=True) if g)
    return total


@pytest.mark.parametrize("order", list(itertools.permutations(("outer", "middle", "inner"))))
def test_a_nested_chain_counts_once_in_every_order_within_one_request(order):
    chain = _chain()
    assert _counted(UsageLineage(), [[chain[name] for name in order]]) == 1


@pytest.mark.parametrize("order", list(itertools.permutations(("outer", "middle", "inner"))))
def test_a_nested_chain_across_requests_counts_once_or_says_it_did_not(order):
    chain = _chain()
    lineage = UsageLineage()
    joined = 0
    counted = 0
    for name in order:
        decisions = lineage.decide([chain[name][0]], [chain[name][1]])
        lineage.commit(decisions)
        counted += decisions.counts[0] and chain[name][1]
        joined += decisions.joined
    if order[-1] == "middle":  # both ends were counted before anything joined them
        assert (counted, joined) == (2, 1)
    else:
        assert (counted, joined) == (1, 0)


def test_siblings_both_count_and_a_span_sent_again_is_counted_again_for_the_journal():
    lineage = UsageLineage()
    siblings = [(span({}, span_id=f"{n:016x}", parent="a" * 16), True) for n in (1, 2)]
    assert _counted(lineage, [siblings]) == 2  # two calls under one agent
    assert _counted(lineage, [siblings[:1]]) == 1  # the journal's keys drop the copy


def test_a_failed_write_leaves_the_lineage_as_it_was():
    chain = _chain()
    lineage = UsageLineage()
    decisions = lineage.decide([chain["inner"][0]], [True])
    assert decisions.counts == [True]
    lineage.rollback(decisions)
    assert len(lineage) == 0
    retried = lineage.decide([chain["inner"][0]], [True])
    assert retried.counts == [True]


def test_the_lineage_memory_is_bounded():
    small = UsageLineage(capacity=2)
    for n in range(50):
        _counted(small, [[(span({}, span_id=f"{n + 1:016x}"), True)]])
    assert len(small) <= 4


def _pair_after(capacity, before, gap, per_request):
    """GenAI spans counted of a call and its wrapping span, when ``gap``
    other calls come between them (``per_request`` an export), and
    ``before`` came before them both (any place in a generation)."""
    lineage = UsageLineage(capacity=capacity)
    # Each a call under a wrapping span: every table of the lineage fills.
    others = [
        (dataclasses.replace(span({}, parent="a" * 16), trace_id=f"{n + 1:032x}"), True)
        for n in range(before + gap)
    ]
    first, then = others[:before], others[before:]
    requests = [first[n : n + per_request] for n in range(0, before, per_request)]
    requests.append([(span({}, span_id="c" * 16, parent="a" * 16), True)])
    requests += [then[n : n + per_request] for n in range(0, gap, per_request)]
    requests.append([(span({}, span_id="a" * 16), True)])
    return _counted(lineage, requests) - before - gap


@pytest.mark.parametrize("per_request", [1, 3])
def test_the_lineage_window_is_the_last_capacity_spans_whatever_the_exports(per_request):
    """Eviction in whole generations (O(1) a span) keeps the documented
    window: a span is remembered while fewer than ``capacity`` spans came
    after it (``docs/otlp.md``: between ``capacity`` and twice it), wherever
    it fell in its generation, so its wrapping span is not counted again,
    one export or many in between."""
    capacity = 8
    for before in range(capacity):
        for gap in range(capacity):
            assert _pair_after(capacity, before, gap, per_request) == 1, (before, gap)


def fold(config_text=""):
    state = MetricState(parse_config(config_text))
    state.apply(TokensUsed("qa", "gpt-4o", 600, 250, "m", NOW, operation="chat", provider=None))
    state.apply(LLMCallFinished("qa", "gpt-4o", 1.2, "Timeout", NOW, ttft_seconds=0.3))
    return {f.spec.name: f.rows for f in take_snapshot(state)}


def test_the_fold_keeps_the_genai_histograms_with_the_provider_from_genai_prices():
    rows = fold()
    tokens = {
        key: (cumulative[-1], total) for key, cumulative, total in rows[c.GENAI_TOKEN_USAGE.name]
    }
    assert tokens == {
        ("chat", "openai", "gpt-4o", "input", "qa"): (1, 600.0),
        ("chat", "openai", "gpt-4o", "output", "qa"): (1, 250.0),
    }
    [(key, cumulative, total)] = rows[c.GENAI_DURATION.name]
    assert key == ("chat", "openai", "gpt-4o", "Timeout", "qa") and total == 1.2
    assert cumulative[c.GENAI_DURATION.buckets.index(1.28)] == 1  # in the 1.28 s bucket
    assert cumulative[c.GENAI_DURATION.buckets.index(0.64)] == 0
    [(key, _, total)] = rows[c.GENAI_TIME_TO_FIRST_CHUNK.name]
    assert total == 0.3


def test_genai_metrics_switch_off_in_the_config():
    rows = fold("metrics:\n  genai_conventions: false\n")
    assert not any(spec.name in rows for spec in c.GENAI_METRICS)
    assert rows[c.LLM_REQUESTS.name]  # ours stay


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "metrics:\n  genai_conventions: maybe\n",
            "metrics.genai_conventions: must be true or false",
        ),
        ("metrics:\n  genai: true\n", "metrics.genai: unknown field"),
        ("otlp:\n  persona_attributes: user.id\n", "otlp.persona_attributes: must be a list"),
        (
            "otlp:\n  persona_attributes: [1]\n",
            r"otlp.persona_attributes\[0\]: must be an attribute",
        ),
        ("otlp:\n  mode: [x]\n", "otlp.mode: unknown field"),
        (
            "ingest:\n  langfuse_public_key: pk-lf-0123456789abcdef\n",
            "ingest.langfuse_secret_key: is required with ingest.langfuse_public_key",
        ),
    ],
)
def test_config_errors_name_file_line_and_field(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(text, "h.yml")


def test_config_reads_the_otlp_mapping_and_the_langfuse_keys():
    config = parse_config(
        "otlp:\n  persona_attributes: [team.role, user.id]\n"
        "ingest:\n  langfuse_public_key: pk-lf-0123456789abcdef\n"
        "  langfuse_secret_key: sk-lf-0123456789abcdef\n"
    )
    assert config.span_mapping.persona_attributes == ("team.role", "user.id")
    assert config.span_mapping.chatmode_attributes == SpanMapping().chatmode_attributes
    assert config.langfuse_keys == ("pk-lf-0123456789abcdef", "sk-lf-0123456789abcdef")


def test_observable_llm_records_time_to_first_chunk_and_the_provider(registry):
    collector = PersonaMetricsCollector(registry)
    OpenAIChunk = type("ChatCompletionChunk", (), {"__module__": "openai.types.chat"})

    async def stream(**kw):
        async def chunks():
            await asyncio.sleep(0.05)
            first = OpenAIChunk()
            first.choices = [SimpleNamespace(delta=SimpleNamespace(content="Hi"))]
            yield first
            await asyncio.sleep(0.05)
            last = OpenAIChunk()
            last.choices, last.usage = [], SimpleNamespace(prompt_tokens=5, completion_tokens=1)
            yield last

        return chunks()

    async def consume():
        wrapped = ObservableLLM(stream, "gpt-4o", "qa", collector=collector)
        return [chunk async for chunk in await wrapped()]

    assert len(asyncio.run(consume())) == 2
    labels = {
        "gen_ai_operation_name": "chat",
        "gen_ai_provider_name": "openai",
        "gen_ai_request_model": "gpt-4o",
        "persona": "qa",
    }
    ttft = registry.get_sample_value(
        "gen_ai_client_operation_time_to_first_chunk_seconds_sum", labels
    )
    total = registry.get_sample_value(
        "gen_ai_client_operation_duration_seconds_sum", {**labels, "error_type": ""}
    )
    assert 0.04 <= ttft < total  # the first chunk came before the end
    assert total >= 0.09


def test_names_of_the_wrong_type_are_passed_over_not_printed():
    [tokens, _] = events_of(
        {
            "gen_ai.request.model": b"bytes-model",
            "gen_ai.response.model": "gpt-4o",
            "gen_ai.usage.input_tokens": 3,
            "user.id": ("a", "b"),
            "enduser.id": 42,
        }
    )
    assert (tokens.model, tokens.persona) == ("gpt-4o", "42")


def test_a_gate_that_is_neither_passed_nor_failed_is_refused_not_counted_as_failed():
    with pytest.raises(EventError, match="gate: must be 'passed' or 'failed'"):
        events_of(
            {
                "hypertool.stage.name": "s",
                "hypertool.workflow.name": "w",
                "hypertool.quality_gate.result": "maybe",
            }
        )
