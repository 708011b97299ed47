"""Where each instrumentation library writes a GenAI call's numbers, as data.

One table per question (tokens, cost, model, provider, the call's identity),
each row an attribute, what it holds and which libraries send it. ``genai``
reads spans through these tables alone, and docs/otlp.md's per-library
tables are generated from them (``bundle build``), so a rename in a library
is one row here, and the docs cannot drift from the code.

Token rows say how much of a kind the attribute holds, because libraries
disagree: the GenAI conventions' ``gen_ai.usage.input_tokens`` is every
prompt token, cache reads and writes inside it (so is OpenAI's
``prompt_tokens``), while Langfuse's flat ``input`` and Anthropic's own
``input_tokens`` leave the cache out and name it beside. A ``whole`` row is
every token of its kind; a ``rest`` row is the part left when the cache
(input) or reasoning (output) parts are taken out, and those parts are added
back. The first row of a kind that a span has wins.

Cost rows are ranked: a cost the provider (or the app, by hand) reported is
used as it is; an instrumentation's own estimate from its price list is used
only for a model we have no price for, so its zero or stale price never
replaces ours.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Bumped whenever a row changes what an attribute is read as.
MAPPING_VERSION = 3

#: Libraries, by the short name the rows use, with the heading docs/otlp.md gives them.
LIBRARIES = {
    "semconv": "OpenTelemetry GenAI conventions (current)",
    "semconv-old": "OpenTelemetry GenAI conventions (earlier names, still sent)",
    "openai-v2": "opentelemetry-instrumentation-openai-v2",
    "openllmetry": "OpenLLMetry (traceloop-sdk)",
    "openinference": "OpenInference (Arize)",
    "openlit": "OpenLIT",
    "litellm": "LiteLLM (`otel` callback)",
    "logfire": "logfire and pydantic-ai",
    "langfuse": "Langfuse SDK",
    "anthropic-sdk": "anthropic SDK's own spans",
}

#: How much of its kind a token attribute holds.
WHOLE = "whole"
REST = "rest"
#: Token kinds: every prompt token, every completion token, and the parts.
KINDS = ("input", "output", "cache_read", "cache_write", "reasoning")


@dataclass(frozen=True, slots=True)
class TokenRow:
    """A span attribute (or a key path inside a JSON attribute) holding tokens."""

    attribute: str
    kind: str
    libraries: tuple[str, ...]
    holds: str = WHOLE
    #: Inside the object the attribute holds: the keys to the count.
    path: tuple[str, ...] = ()
    #: How that object is written: ``json``, or ``python`` (a dict's ``repr``,
    #: as LiteLLM writes its usage object).
    syntax: str = "json"


@dataclass(frozen=True, slots=True)
class CostRow:
    """A span attribute holding a call's cost in US dollars."""

    attribute: str
    #: ``reported`` (the provider's, or the app's own) or ``estimate`` (the
    #: instrumentation's price list).
    rank: str
    libraries: tuple[str, ...]
    #: A JSON object whose ``total``, else the sum of its parts, is the cost.
    details: bool = False


@dataclass(frozen=True, slots=True)
class NameRow:
    """A span attribute naming something (model, provider, response)."""

    attribute: str
    libraries: tuple[str, ...]


REPORTED = "reported"
ESTIMATE = "estimate"

_ALL_SEMCONV = ("semconv", "openai-v2", "openllmetry", "openlit", "logfire", "anthropic-sdk")
_LANGFUSE_USAGE = "langfuse.observation.usage_details"
_OPENAI_REASONING = ("completion_tokens_details", "reasoning_tokens")
_RESPONSES_REASONING = ("output_tokens_details", "reasoning_tokens")


def _litellm_usage(key: str, kind: str) -> TokenRow:
    path = tuple(key.split("."))
    return TokenRow("metadata.usage_object", kind, ("litellm",), WHOLE, path, "python")


def _usage_details(key: str, kind: str, holds: str = WHOLE) -> TokenRow:
    path = tuple(key.split("."))
    return TokenRow(_LANGFUSE_USAGE, kind, ("langfuse",), holds, path)


#: Token attributes, by kind; within a kind, the first a span has wins.
TOKENS: tuple[TokenRow, ...] = (
    # input: every prompt token
    TokenRow("gen_ai.usage.input_tokens", "input", (*_ALL_SEMCONV, "litellm")),
    TokenRow("gen_ai.usage.prompt_tokens", "input", ("semconv-old", "openllmetry", "litellm")),
    TokenRow("llm.usage.prompt_tokens", "input", ("openllmetry",)),
    TokenRow("llm.token_count.prompt", "input", ("openinference",)),
    _usage_details("prompt_tokens", "input"),
    _usage_details("input", "input", REST),
    # output: every completion token
    TokenRow("gen_ai.usage.output_tokens", "output", (*_ALL_SEMCONV, "litellm")),
    TokenRow("gen_ai.usage.completion_tokens", "output", ("semconv-old", "openllmetry", "litellm")),
    TokenRow("llm.usage.completion_tokens", "output", ("openllmetry",)),
    TokenRow("llm.token_count.completion", "output", ("openinference",)),
    _usage_details("completion_tokens", "output"),
    _usage_details("output", "output", REST),
    # cache reads, inside the input
    TokenRow("gen_ai.usage.cache_read.input_tokens", "cache_read", _ALL_SEMCONV),
    TokenRow("gen_ai.usage.cache_read_input_tokens", "cache_read", ("semconv-old", "openllmetry")),
    TokenRow("llm.token_count.prompt_details.cache_read", "cache_read", ("openinference",)),
    TokenRow("gen_ai.usage.details.cache_read_tokens", "cache_read", ("logfire",)),
    _litellm_usage("prompt_tokens_details.cached_tokens", "cache_read"),
    _usage_details("prompt_tokens_details.cached_tokens", "cache_read"),
    _usage_details("input_tokens_details.cached_tokens", "cache_read"),
    _usage_details("input_cached_tokens", "cache_read"),
    _usage_details("input_cache_read", "cache_read"),
    _usage_details("cache_read_input_tokens", "cache_read"),
    # cache writes, inside the input
    TokenRow("gen_ai.usage.cache_write.input_tokens", "cache_write", ("semconv", "anthropic-sdk")),
    TokenRow(
        "gen_ai.usage.cache_creation.input_tokens",
        "cache_write",
        ("openllmetry", "openlit", "logfire"),
    ),
    TokenRow(
        "gen_ai.usage.cache_creation_input_tokens", "cache_write", ("semconv-old", "openllmetry")
    ),
    TokenRow("llm.token_count.prompt_details.cache_write", "cache_write", ("openinference",)),
    TokenRow("gen_ai.usage.details.cache_write_tokens", "cache_write", ("logfire",)),
    _litellm_usage("cache_creation_input_tokens", "cache_write"),
    _usage_details("input_cache_creation", "cache_write"),
    _usage_details("input_cache_write", "cache_write"),
    _usage_details("cache_creation_input_tokens", "cache_write"),
    # reasoning, inside the output
    TokenRow("gen_ai.usage.reasoning.output_tokens", "reasoning", ("semconv", "anthropic-sdk")),
    TokenRow("gen_ai.usage.reasoning_tokens", "reasoning", ("semconv-old", "openllmetry")),
    TokenRow("llm.usage.reasoning_tokens", "reasoning", ("openllmetry",)),
    TokenRow("gen_ai.usage.details.reasoning_tokens", "reasoning", ("logfire",)),
    TokenRow("llm.token_count.completion_details.reasoning", "reasoning", ("openinference",)),
    TokenRow("gen_ai.usage.raw", "reasoning", ("logfire",), path=_OPENAI_REASONING),
    _litellm_usage("completion_tokens_details.reasoning_tokens", "reasoning"),
    TokenRow("gen_ai.usage.raw", "reasoning", ("logfire",), path=_RESPONSES_REASONING),
    _usage_details("completion_tokens_details.reasoning_tokens", "reasoning"),
    _usage_details("output_tokens_details.reasoning_tokens", "reasoning"),
    _usage_details("output_reasoning_tokens", "reasoning"),
    _usage_details("output_reasoning", "reasoning"),
)

#: Cost attributes, best first.
COSTS: tuple[CostRow, ...] = (
    CostRow("langfuse.observation.cost_details", REPORTED, ("langfuse",), details=True),
    CostRow("gen_ai.usage.cost", ESTIMATE, ("openlit",)),
    CostRow("gen_ai.cost.total_cost", ESTIMATE, ("litellm",)),
    CostRow("operation.cost", ESTIMATE, ("logfire",)),
    CostRow("llm.cost.total", ESTIMATE, ("openinference",)),
)

#: The model, first found wins (span, then resource).
MODELS: tuple[NameRow, ...] = (
    NameRow("gen_ai.request.model", (*_ALL_SEMCONV, "semconv-old", "litellm")),
    NameRow("gen_ai.response.model", (*_ALL_SEMCONV, "semconv-old", "litellm")),
    NameRow("llm.model_name", ("openinference",)),
    NameRow("langfuse.observation.model.name", ("langfuse",)),
)

#: The provider.
PROVIDERS: tuple[NameRow, ...] = (
    NameRow("gen_ai.provider.name", _ALL_SEMCONV),
    NameRow(
        "gen_ai.system",
        ("semconv-old", "openai-v2", "openllmetry", "openlit", "litellm", "logfire"),
    ),
    NameRow("llm.provider", ("openinference",)),
    NameRow("llm.system", ("openinference",)),
)

#: The provider's id of the response: one call, however many spans describe it.
RESPONSE_IDS: tuple[NameRow, ...] = (NameRow("gen_ai.response.id", (*_ALL_SEMCONV, "litellm")),)

#: Instrumentation scope names (prefixes) by library: where a library's
#: own ways (below) apply. A span of another scope is read by the rows alone.
SCOPES: tuple[tuple[str, str], ...] = (
    ("openlit.", "openlit"),
    ("logfire", "logfire"),
    ("pydantic-ai", "logfire"),
    ("com.anthropic.sdk", "anthropic-sdk"),
    ("openinference.", "openinference"),
    ("opentelemetry.instrumentation.openai_v2", "openai-v2"),
    ("opentelemetry.util.genai", "openai-v2"),
    ("langfuse", "langfuse"),
    ("litellm", "litellm"),
    ("opentelemetry.instrumentation.", "openllmetry"),
)
#: (library, provider) whose whole-input attribute is the provider's uncached
#: input, the cache reads and writes beside it: OpenLIT passes Anthropic's
#: ``input_tokens`` through as ``gen_ai.usage.input_tokens``.
CACHE_BESIDE_INPUT = frozenset({("openlit", "anthropic")})
#: Libraries that trace a streamed call as two spans: the request, with no
#: usage and no response id, and a later span holding the usage (marked by
#: the attribute and value given), whose duration is the attribute named.
#: The call is counted once, from the usage span.
USAGE_SPANS: dict[str, tuple[str, str, str]] = {
    "logfire": ("logfire.span_type", "log", "duration"),
}
#: OpenInference's span kinds that are calls to a model (its other kinds,
#: chains and agents, are not, whatever model they name).
OPENINFERENCE_KIND = "openinference.span.kind"
OPENINFERENCE_CALLS = frozenset(("LLM", "EMBEDDING"))

#: ``gen_ai.operation.name`` (or OpenLLMetry's older ``llm.request.type``)
#: values that are calls to a model.
LLM_OPERATIONS = frozenset(
    (
        "chat",
        "text_completion",
        "generate_content",
        "embeddings",
        "embedding",
        "completion",
        "responses",
    )
)
OPERATIONS: tuple[NameRow, ...] = (
    NameRow("gen_ai.operation.name", (*_ALL_SEMCONV, "litellm")),
    NameRow("llm.request.type", ("openllmetry",)),
)
#: Attribute values that mark a span as an LLM call whatever its operation.
CALL_MARKERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("openinference.span.kind", "LLM", ("openinference",)),
    ("openinference.span.kind", "EMBEDDING", ("openinference",)),
    ("langfuse.observation.type", "generation", ("langfuse",)),
)


def rows_of(library: str) -> list[tuple[str, str]]:
    """(attribute, what it is read as) of every row naming ``library``, for its docs table."""
    out: list[tuple[str, str]] = []
    for row in TOKENS:
        if library in row.libraries:
            where = row.attribute + "".join(f"[{key}]" for key in row.path)
            what = row.kind
            if row.holds == REST:
                what += " (without cache)" if row.kind == "input" else " (without reasoning)"
            out.append((where, f"tokens: {what}"))
    for cost in COSTS:
        if library in cost.libraries:
            out.append((cost.attribute, f"cost: {cost.rank}"))
    for heading, rows in (
        ("model", MODELS),
        ("provider", PROVIDERS),
        ("response id", RESPONSE_IDS),
        ("operation", OPERATIONS),
    ):
        out += [(row.attribute, heading) for row in rows if library in row.libraries]
    out += [
        (f"{name} = {value}", "an LLM call")
        for name, value, libs in CALL_MARKERS
        if library in libs
    ]
    return out


__all__ = [
    "CACHE_BESIDE_INPUT",
    "CALL_MARKERS",
    "COSTS",
    "ESTIMATE",
    "KINDS",
    "LIBRARIES",
    "LLM_OPERATIONS",
    "MAPPING_VERSION",
    "MODELS",
    "OPENINFERENCE_CALLS",
    "OPENINFERENCE_KIND",
    "OPERATIONS",
    "PROVIDERS",
    "REPORTED",
    "RESPONSE_IDS",
    "REST",
    "SCOPES",
    "TOKENS",
    "USAGE_SPANS",
    "WHOLE",
    "CostRow",
    "NameRow",
    "TokenRow",
    "rows_of",
]
