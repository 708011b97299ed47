"""Reading a span's tokens and cost through the tables of ``genai_conventions``.

The tables are compiled once, at import, into what a span is checked
against: the plain attribute names of each token kind, in order, and the
JSON attributes with the key paths inside them. Most spans carry a handful
of the names, found in one set intersection.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence
from typing import Any, Protocol

from . import jsontext
from .eventbase import tuple_new
from .events import TokensUsed
from .fields import EventError, count_value, money_value
from .genai_conventions import (
    CACHE_BESIDE_INPUT,
    COSTS,
    ESTIMATE,
    KINDS,
    REST,
    SCOPES,
    TOKENS,
    TokenRow,
)


class Span(Protocol):
    """What is read of a span here (``genai.SpanRecord`` is one)."""

    attributes: dict[str, Any]
    scope: str


#: The token rows of each kind, in order (the first a span has wins).
_ROWS: dict[str, list[TokenRow]] = {kind: [] for kind in KINDS}
for _row in TOKENS:
    _ROWS[_row.kind].append(_row)
#: Every attribute a token row reads: a span with none of them has no usage.
_NAMES = frozenset(row.attribute for row in TOKENS)
_COST_NAMES = frozenset(cost.attribute for cost in COSTS)


def library_of(span: Span) -> str | None:
    """The library whose ways apply to the span, by its instrumentation scope."""
    scope = span.scope
    if scope:
        for prefix, library in SCOPES:
            if scope.startswith(prefix):
                return library
    return None


#: The longest object text parsed (a usage object is a few hundred bytes).
MAX_OBJECT_TEXT = 16_384


def _object(span: Span, name: str, parsed: dict[str, Any], syntax: str = "json") -> Any:
    """The object (a dict) the attribute's text holds, parsed once per span;
    ``None`` when it holds none; ``EventError`` for JSON that is not an object."""
    if name not in parsed:
        raw = span.attributes.get(name)
        value: Any = None
        if isinstance(raw, str):
            if syntax == "python":  # a repr: literals only, never evaluated as code
                value = _python_literal(raw)
            else:
                value = jsontext.loads(name, raw)
                if value is not None and not isinstance(value, dict):
                    raise EventError(name, raw[:80], "must be a JSON object")
        parsed[name] = value if isinstance(value, dict) else None
    return parsed[name]


def _python_literal(text: str) -> Any:
    if len(text) > MAX_OBJECT_TEXT or not text.startswith("{"):
        return None
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def _dig(value: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def read_usage(span: Span, provider: str | None = None) -> dict[str, int] | None:
    """Token counts by kind (input and output whole, the cache and reasoning
    parts inside them) the span reports, or ``None`` when it reports neither
    input nor output; ``EventError`` naming the attribute (and key) for a
    count that is not a whole number from 0 up."""
    attributes = span.attributes
    present = _NAMES.intersection(attributes)
    if not present:
        return None
    parsed: dict[str, Any] = {}
    counts: dict[str, int] = {}
    rest: set[str] = set()
    for kind, rows in _ROWS.items():
        for row in rows:
            name = row.attribute
            if name not in present:
                continue
            if row.path:
                value = _dig(_object(span, name, parsed, row.syntax), row.path)
                if value is None:
                    continue
                where = f"{name}.{'.'.join(row.path)}"
            else:
                value, where = attributes[name], name
            counts[kind] = count_value(where, value)
            if row.holds == REST:
                rest.add(kind)
            break
    if "input" not in counts and "output" not in counts:
        return None
    cache = counts.get("cache_read", 0) + counts.get("cache_write", 0)
    if (
        "input" in rest
        or (library_of(span), provider) in CACHE_BESIDE_INPUT
        or cache > counts.get("input", 0)
    ):
        counts["input"] = counts.get("input", 0) + cache
    if "output" in rest:
        counts["output"] += counts.get("reasoning", 0)
    return counts


def read_cost(span: Span) -> tuple[float, str] | None:
    """The cost the span carries and its rank (``genai_conventions.COSTS``),
    the best-ranked first; ``None`` without one, and for an instrumentation's
    estimate of 0 (its way of saying it has no price for the model)."""
    attributes = span.attributes
    if not _COST_NAMES.intersection(attributes):
        return None
    for row in COSTS:
        name = row.attribute
        if name not in attributes:
            continue
        value: Any = attributes[name]
        if row.details:
            details = _object(span, name, {})
            if not details:
                continue
            if "total" in details:
                value = details["total"]
            else:
                parts = list(details.values())
                if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in parts):
                    raise EventError(name, details, "must hold numbers of US dollars")
                value = sum(parts)
        usd = money_value(name, value)
        if usd is None or (usd == 0 and row.rank == ESTIMATE):
            continue
        return usd, row.rank
    return None


#: Where a tokens event's reported cost lies.
_COST = TokensUsed._fields.index("cost_usd")


def carry_reported_costs(
    spans: Sequence[Any], mapped: list[list[Any]], counts: Sequence[bool]
) -> None:
    """Give a counted call the cost an enclosing span of the same request
    reported for it, when the call reports none of its own.

    Of nested GenAI spans one counts (``lineage``): usually the innermost,
    an auto-instrumented provider span with the tokens. An app that reports
    the cost by hand does so on its own, outer span (a Langfuse generation's
    ``cost_details``), which does not count: its figure would be lost, and a
    reported cost beats our price. ``mapped`` holds each span's events and
    is changed in place.
    """
    reported: dict[str, float] = {}
    for span, found, counted in zip(spans, mapped, counts, strict=True):
        if not counted:
            for event in found:
                if type(event) is TokensUsed and event.cost_usd is not None:
                    reported[span.span_id] = event.cost_usd
    if not reported:
        return
    parents = {span.span_id: span.parent_id for span in spans}
    for index, (span, counted) in enumerate(zip(spans, counts, strict=True)):
        if not counted:
            continue
        parent, steps = span.parent_id, 0
        while parent and parent not in reported and steps < len(spans):
            parent, steps = parents.get(parent), steps + 1
        if not parent or parent not in reported:
            continue
        mapped[index] = [
            tuple_new(TokensUsed, (*e[:_COST], reported[parent], *e[_COST + 1 :]))
            if type(e) is TokensUsed and e.cost_usd is None
            else e
            for e in mapped[index]
        ]


__all__ = ["carry_reported_costs", "library_of", "read_cost", "read_usage"]
