"""A check an agent makes before it spends: does this amount fit the budget?

``check(persona, standing, tokens, usd, held)`` answers for every limit the
budget sets: an amount fits when what is used, plus what live reservations
hold (``Held``), plus it stays within the limit and something is left (so a
call of unknown size, amount 0, is refused once a limit is reached). The
same answer backs ``PersonaMetricsCollector.check_budget``,
``enforce_budget=True`` (``BudgetExceeded`` before the call),
``GET /v1/budgets/{persona}``, a reservation (``POST .../reservations``) and
``hypertool-exporter check``, so they can never disagree.

A persona with no budget is always allowed. A fleet budget is checked
against what this exporter knows of the fleet's spend (its own), which the
docs state.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from .budgets import Bar, Standing, human_duration
from .fields import EventError, seconds_value


@dataclass(frozen=True)
class Held:
    """What live reservations hold of a persona's budget: spend promised to
    calls not yet made (``journal.reservations``)."""

    tokens: int = 0
    usd: float = 0.0

    def of(self, unit: str) -> float:
        """The amount held in ``unit`` ("tokens" or "usd")."""
        return self.tokens if unit == "tokens" else self.usd


#: Nothing held: no reservations, or no journal to keep them.
NOTHING_HELD = Held()


@dataclass(frozen=True)
class BudgetCheck:
    """The answer for ``tokens`` and ``usd`` more of ``persona``'s spend."""

    persona: str
    tokens: int
    usd: float
    #: Where the persona stands now; ``None`` when no budget applies.
    standing: Standing | None
    #: What other live reservations hold: it is not there to spend either.
    held: Held = NOTHING_HELD

    @property
    def allowed(self) -> bool:
        """Whether the amount fits every limit (always, without a budget)."""
        return not self.refused

    @property
    def refused(self) -> list[str]:
        """Why not, a phrase per limit the amount does not fit (empty: it fits)."""
        s = self.standing
        if s is None:
            return []
        reasons = []
        for bar in s.bars:
            asked = self.tokens if bar.unit == "tokens" else self.usd
            taken = bar.used + self.held.of(bar.unit)
            # Nothing left refuses even a zero amount: a call of unknown size.
            if taken >= bar.limit or taken + asked > bar.limit:
                verb, more = ("used", "do") if bar.unit == "tokens" else ("spent", "does")
                held = self.held.of(bar.unit)
                also = f" and {bar.show(held)} reserved" if held else ""
                rest = f"{bar.show(asked)} more {more} not fit" if asked else "none left"
                reasons.append(f"{bar.amount()} {verb}{also}, {rest}")
        return reasons

    def explain(self) -> str:
        """One line: what fits or why it does not, and when the period resets."""
        s = self.standing
        if s is None:
            return f"{self.persona}: no budget applies"
        reset = (
            "never resets" if s.resets_in is None else f"resets in {human_duration(s.resets_in)}"
        )
        if self.allowed:
            left = ", ".join(
                Bar(bar.unit, bar.used + self.held.of(bar.unit), bar.limit).left_text()
                for bar in s.bars
            )
            return f"{self.persona}: fits its {s.period} budget ({left}; {reset})"
        why = "; ".join(self.refused)
        return f"{self.persona}: does not fit its {s.period} budget: {why} ({reset})"


#: A reservation's time to live when none is asked for, and the longest one.
DEFAULT_TTL_SECONDS = 300.0
MAX_TTL_SECONDS = 86_400.0


@dataclass(frozen=True)
class Reservation:
    """An amount of ``persona``'s budget held until ``expires`` (Unix
    seconds) for a call not made yet (``journal.reservations`` keeps them)."""

    id: str
    persona: str
    tokens: int
    usd: float
    expires: float


def ttl_value(field: str, value: Any) -> float:
    """A reservation's time to live: seconds, more than 0, at most ``MAX_TTL_SECONDS``."""
    ttl = seconds_value(field, value, maximum=MAX_TTL_SECONDS)
    if ttl <= 0:
        raise EventError(field, value, "must be more than 0 seconds")
    return ttl


def new_reservation_id() -> str:
    """A reservation id: unguessable, so one agent cannot release another's."""
    return "rsv_" + secrets.token_hex(12)


class BudgetExceeded(Exception):
    """Raised before a call that would not fit the persona's budget
    (``enforce_budget=True``); ``check`` holds the figures."""

    def __init__(self, check: BudgetCheck):
        super().__init__(check.explain())
        self.check = check


def check(
    persona: str,
    standing: Standing | None,
    tokens: int = 0,
    usd: float = 0.0,
    held: Held = NOTHING_HELD,
) -> BudgetCheck:
    """Whether ``tokens`` and ``usd`` more fit ``persona``'s budget as it
    stands, beside what live reservations ``held``."""
    return BudgetCheck(persona, tokens, usd, standing, held)


__all__ = [
    "DEFAULT_TTL_SECONDS",
    "MAX_TTL_SECONDS",
    "NOTHING_HELD",
    "BudgetCheck",
    "BudgetExceeded",
    "Held",
    "Reservation",
    "check",
    "new_reservation_id",
    "ttl_value",
]
