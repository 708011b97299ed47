"""The budget API: a budget's standing, whether an amount fits, and
reservations that hold an amount until its usage arrives.

An agent, a shell script or another service asks before it spends:

- ``GET /v1/budgets/backend-engineer?tokens=2000&usd=0.05`` answers with the
  persona's budget (period, scope, reset time, and for tokens and US dollars
  the limit, what is used, reserved, remaining and available) and
  ``check.allowed``. The answer is ``model.budget_check``'s, the same as
  ``collector.check_budget`` and ``hypertool-exporter check`` give. A
  persona with no budget is answered with ``"budget": null`` and allowed.
- ``POST /v1/budgets/{persona}/reservations`` with ``{"tokens": 2000,
  "usd": 0.05, "ttl_seconds": 300}`` holds the amount: ``201`` with a
  ``reservation_id`` when it fits beside the other live reservations,
  ``409`` with the standing when it does not.
- ``DELETE /v1/budgets/{persona}/reservations/{id}`` gives it back unused:
  ``204``, or ``404`` when there is no such live reservation.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

from ..model import jsontext
from ..model.budget_check import (
    DEFAULT_TTL_SECONDS,
    NOTHING_HELD,
    BudgetCheck,
    Held,
    Reservation,
    ttl_value,
)
from ..model.budgets import Standing
from ..model.fields import (
    MALFORMED,
    EventError,
    count_value,
    label_value,
    money_value,
    number_from_text,
)
from ..model.wire import key_value

PREFIX = "/v1/budgets/"
RESERVATIONS = "reservations"


class BudgetAnswers(Protocol):
    """What answers the budget API (``sync.budget_desk.BudgetDesk``)."""

    def check(self, persona: str, tokens: int = 0, usd: float = 0.0) -> BudgetCheck: ...

    def reserve(
        self, persona: str, tokens: int, usd: float, ttl_seconds: float
    ) -> tuple[Reservation | None, BudgetCheck]: ...

    def cancel(self, persona: str, reservation_id: str) -> bool: ...


def parse_path(path: str) -> tuple[str, list[str]]:
    """The persona a budget path names, and the parts after it
    (``[]``, ``["reservations"]`` or ``["reservations", id]``);
    ``EventError`` naming what is wrong."""
    raw, *rest = path[len(PREFIX) :].split("/")
    raw = urllib.parse.unquote(raw)
    if not raw or len(rest) > 2 or (rest and rest[0] != RESERVATIONS):
        raise EventError(
            "path",
            path,
            "is /v1/budgets/{persona}, or .../reservations, or .../reservations/{id}",
        )
    persona = label_value("persona", raw, persona=True)
    if len(rest) == 2:
        key_value("reservation_id", urllib.parse.unquote(rest[1]))
    return persona, [urllib.parse.unquote(part) for part in rest]


def parse_amounts(query: str) -> tuple[int, float]:
    """(tokens, usd) a check's query asks about; ``EventError`` naming what is wrong."""
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
    return tokens, usd


def parse_reservation(body: bytes) -> tuple[int, float, float]:
    """(tokens, usd, ttl_seconds) of a reservation request's JSON body."""
    payload = jsontext.loads_strict("body", body)
    if not isinstance(payload, dict):
        raise EventError("body", payload, "must be a JSON object", code=MALFORMED)
    unknown = sorted(payload.keys() - {"tokens", "usd", "ttl_seconds"})
    if unknown:
        raise EventError(
            unknown[0], payload[unknown[0]], "a reservation takes tokens, usd and ttl_seconds"
        )
    tokens = count_value("tokens", payload.get("tokens", 0))
    usd = money_value("usd", payload.get("usd", 0.0)) or 0.0
    if not tokens and not usd:
        raise EventError("tokens", tokens, "give tokens or usd (nothing to reserve)")
    ttl = ttl_value("ttl_seconds", payload.get("ttl_seconds", DEFAULT_TTL_SECONDS))
    return tokens, usd, ttl


def _limit(used: float, held: float, limit: float | None) -> dict[str, float] | None:
    if limit is None:
        return None
    return {
        "limit": limit,
        "used": used,
        "reserved": held,
        "remaining": limit - used,
        "available": limit - used - held,
    }


def _moment(seconds: float) -> str:
    """A time in RFC 3339, to the nearest second (a reset read a moment
    after its standing was taken is still midnight, not 23:59:59)."""
    return (
        datetime.fromtimestamp(round(seconds), UTC)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z")
    )


def standing_document(standing: Standing, now: float, held: Held = NOTHING_HELD) -> dict[str, Any]:
    """A standing as JSON: period, scope, reset, and each unit's figures
    (``remaining`` is the limit less what is used, ``available`` that less
    what live reservations hold)."""
    resets_in = standing.resets_in
    return {
        "period": standing.period,
        "scope": standing.scope,
        "resets_at": None if resets_in is None else _moment(now + resets_in),
        "resets_in_seconds": resets_in,
        "tokens": _limit(standing.tokens_used, held.tokens, standing.tokens_limit),
        "usd": _limit(standing.usd_used, held.usd, standing.usd_limit),
    }


def answer_document(result: BudgetCheck, now: float) -> dict[str, Any]:
    """The endpoint's answer for ``result``."""
    standing = result.standing
    return {
        "persona": result.persona,
        "budget": None if standing is None else standing_document(standing, now, result.held),
        "check": {
            "tokens": result.tokens,
            "usd": result.usd,
            "allowed": result.allowed,
            "reason": result.explain(),
        },
    }


def reservation_document(
    reservation: Reservation, result: BudgetCheck, now: float
) -> dict[str, Any]:
    """A granted reservation's answer: its id, amount and expiry, and the
    standing it was decided on (this reservation not yet among the held)."""
    return {
        "reservation_id": reservation.id,
        "persona": reservation.persona,
        "tokens": reservation.tokens,
        "usd": reservation.usd,
        "expires_at": _moment(reservation.expires),
        "ttl_seconds": reservation.expires - now,
        **{key: value for key, value in answer_document(result, now).items() if key != "persona"},
    }


def respond(
    desk: BudgetAnswers,
    method: str,
    target: str,
    body: Callable[[], bytes],
    clock: Callable[[], float],
) -> tuple[int, dict[str, Any] | None]:
    """The status and JSON document (``None``: no body) answering ``method``
    on ``target`` (path and query); ``EventError`` for bad input, naming the
    field. ``body()`` reads the request's body, for the methods that have one;
    ``clock()`` is read once the desk has answered (times are shown from then)."""
    path, _, query = target.partition("?")
    persona, rest = parse_path(path)
    if method in ("GET", "HEAD"):
        if rest:
            raise EventError("path", path, "GET asks /v1/budgets/{persona}")
        tokens, usd = parse_amounts(query)
        return 200, answer_document(desk.check(persona, tokens, usd), clock())
    if method == "POST" and rest == [RESERVATIONS]:
        tokens, usd, ttl = parse_reservation(body())
        reservation, result = desk.reserve(persona, tokens, usd, ttl)
        if reservation is None:
            return 409, {"error": result.explain(), **answer_document(result, clock())}
        return 201, reservation_document(reservation, result, clock())
    if method == "DELETE" and len(rest) == 2:
        if desk.cancel(persona, rest[1]):
            return 204, None
        return 404, {"error": f"no live reservation {rest[1]} of {persona}"}
    return 405, {"error": f"{method} {path} is not part of the budget API"}


__all__ = [
    "PREFIX",
    "RESERVATIONS",
    "BudgetAnswers",
    "answer_document",
    "parse_amounts",
    "parse_path",
    "parse_reservation",
    "reservation_document",
    "respond",
    "standing_document",
]
