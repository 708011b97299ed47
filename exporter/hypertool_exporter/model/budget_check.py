"""A check an agent makes before it spends: does this amount fit the budget?

``check(persona, standing, tokens, usd)`` answers for every limit the budget
sets: an amount fits when what is used plus it stays within the limit and
something is left (so a call of unknown size, amount 0, is refused once a
limit is reached). The same
answer backs ``PersonaMetricsCollector.check_budget``, ``enforce_budget=True``
(``BudgetExceeded`` before the call), ``GET /v1/budgets/{persona}`` and
``hypertool-exporter check``, so they can never disagree.

A persona with no budget is always allowed. A fleet budget is checked
against what this exporter knows of the fleet's spend (its own), which the
docs state.
"""

from __future__ import annotations

from dataclasses import dataclass

from .budgets import Standing, human_duration


@dataclass(frozen=True)
class BudgetCheck:
    """The answer for ``tokens`` and ``usd`` more of ``persona``'s spend."""

    persona: str
    tokens: int
    usd: float
    #: Where the persona stands now; ``None`` when no budget applies.
    standing: Standing | None

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
            # Nothing left refuses even a zero amount: a call of unknown size.
            if bar.used >= bar.limit or bar.used + asked > bar.limit:
                verb, more = ("used", "do") if bar.unit == "tokens" else ("spent", "does")
                rest = f"{bar.show(asked)} more {more} not fit" if asked else "none left"
                reasons.append(f"{bar.amount()} {verb}, {rest}")
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
            left = ", ".join(bar.left_text() for bar in s.bars)
            return f"{self.persona}: fits its {s.period} budget ({left}; {reset})"
        why = "; ".join(self.refused)
        return f"{self.persona}: does not fit its {s.period} budget: {why} ({reset})"


class BudgetExceeded(Exception):
    """Raised before a call that would not fit the persona's budget
    (``enforce_budget=True``); ``check`` holds the figures."""

    def __init__(self, check: BudgetCheck):
        super().__init__(check.explain())
        self.check = check


def check(
    persona: str, standing: Standing | None, tokens: int = 0, usd: float = 0.0
) -> BudgetCheck:
    """Whether ``tokens`` and ``usd`` more fit ``persona``'s budget as it stands."""
    return BudgetCheck(persona, tokens, usd, standing)


__all__ = ["BudgetCheck", "BudgetExceeded", "check"]
