"""``GET /v1/budgets/{persona}``: a budget's standing, and whether an amount fits.

An agent, a shell script or another service asks before it spends:
``GET /v1/budgets/backend-engineer?tokens=2000&usd=0.05`` answers with the
persona's budget (period, scope, reset time, and for tokens and US dollars
the limit, what is used and what remains) and ``check.allowed``. The answer
is ``model.budget_check``'s, the same as ``collector.check_budget`` and
``hypertool-exporter check`` give. A persona with no budget is answered with
``"budget": null`` and allowed.
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from typing import Any

from ..model.budget_check import BudgetCheck
from ..model.budgets import Standing
from ..model.fields import EventError, count_value, label_value, money_value, number_from_text

PREFIX = "/v1/budgets/"


def parse_request(path: str, query: str) -> tuple[str, int, float]:
    """(persona, tokens, usd) of a request; ``EventError`` naming what is wrong."""
    raw = urllib.parse.unquote(path[len(PREFIX) :])
    if not raw or "/" in raw:
        raise EventError("persona", raw, "the path is /v1/budgets/{persona}")
    persona = label_value("persona", raw, persona=True)
    fields = urllib.parse.parse_qs(query, keep_blank_values=True, max_num_fields=8)
    unknown = sorted(fields.keys() - {"tokens", "usd"})
    if unknown:
        raise EventError(unknown[0], fields[unknown[0]][0], "the query takes tokens and usd")
    amounts: dict[str, Any] = {}
    for name, whole in (("tokens", True), ("usd", False)):
        given = fields.get(name)
        if given is None:
            continue
        if len(given) > 1:
            raise EventError(name, given, "give it once")
        amounts[name] = number_from_text(name, given[0], whole=whole)
    tokens = count_value("tokens", amounts.get("tokens", 0))
    usd = money_value("usd", amounts.get("usd", 0.0)) or 0.0
    return persona, tokens, usd


def _limit(used: float, limit: float | None) -> dict[str, float] | None:
    if limit is None:
        return None
    return {"limit": limit, "used": used, "remaining": limit - used}


def standing_document(standing: Standing, now: float) -> dict[str, Any]:
    """A standing as JSON: period, scope, reset, and each unit's figures."""
    resets_at = None
    if standing.resets_in is not None:
        moment = datetime.fromtimestamp(now + standing.resets_in, UTC)
        resets_at = moment.isoformat(timespec="seconds").replace("+00:00", "Z")
    return {
        "period": standing.period,
        "scope": standing.scope,
        "resets_at": resets_at,
        "resets_in_seconds": standing.resets_in,
        "tokens": _limit(standing.tokens_used, standing.tokens_limit),
        "usd": _limit(standing.usd_used, standing.usd_limit),
    }


def answer_document(result: BudgetCheck, now: float) -> dict[str, Any]:
    """The endpoint's answer for ``result``."""
    standing = result.standing
    return {
        "persona": result.persona,
        "budget": None if standing is None else standing_document(standing, now),
        "check": {
            "tokens": result.tokens,
            "usd": result.usd,
            "allowed": result.allowed,
            "reason": result.explain(),
        },
    }


__all__ = ["PREFIX", "answer_document", "parse_request", "standing_document"]
