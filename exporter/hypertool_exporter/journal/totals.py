"""Totals read from the journal's per-day rows: spend by persona, spend by day,
and where each budget stands.

``stats`` prints them and the status page draws them, without replaying a
single event: the per-day rows (``rollup``) are a few hundred however long
the journal is. Costs are priced with the config's prices, else genai-prices.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, fields

from ..model.budgets import (
    BudgetBook,
    PeriodUsage,
    Standing,
    period_end,
    period_start,
    standing,
    unused,
)
from ..model.config import Config
from ..model.money import femto_of, usd_of
from ..model.pricing import PriceTable
from .rollup import DAILY_KEY, DAILY_TOTALS, INSTRUMENTATION, REPORTED, SECONDS_PER_DAY
from .store import Journal

#: Later than any event's time (``model.fields`` refuses timestamps past 1e11).
_LAST_TIME = 1e11
#: ``stats --since`` values and the budget periods they total.
SINCE = {"today": "daily", "week": "weekly", "month": "monthly"}


@dataclass
class PersonaStats:
    """One persona's totals over the period asked for. Cache tokens are part of
    the input, reasoning tokens part of the output (see ``model.fields.TOKEN_TYPES``)."""

    persona: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    estimated_cost_usd: float = 0.0
    reported_cost_usd: float = 0.0
    unpriced_tokens: int = 0
    switches: int = 0
    failed_gates: int = 0

    @property
    def tokens(self) -> int:
        """Every billable token once: what a budget counts."""
        return self.input_tokens + self.output_tokens

    @property
    def cost_usd(self) -> float:
        return self.estimated_cost_usd + self.reported_cost_usd

    def add(self, other: PersonaStats) -> None:
        """Add another set of totals to these (the persona stays)."""
        for item in fields(self):
            if item.name != "persona":
                setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))


def _priced_rows(
    journal: Journal, prices: PriceTable, start: float, now: float
) -> Iterator[tuple[int, PersonaStats]]:
    """(day, totals of one day, persona, model and cost source) from the UTC day
    containing ``start`` on, each priced.

    A day's tokens are priced at that day's prices (at noon UTC), at the base
    tier: the per-day totals do not show single requests, so long-context
    tiers and time-of-day discounts are priced on ``/metrics`` only.
    """
    for (
        day,
        persona,
        model,
        source,
        inp,
        out,
        cache_read,
        cache_write,
        reasoning,
        reported,
        switches,
        failed,
    ) in journal.query(
        f"SELECT {', '.join(DAILY_KEY)}, "
        + ", ".join(f"sum({name})" for name in DAILY_TOTALS)
        + f" FROM daily WHERE day >= ? AND day <= ? GROUP BY {', '.join(DAILY_KEY)}",
        (int(start // SECONDS_PER_DAY), int(now // SECONDS_PER_DAY)),
    ):
        entry = PersonaStats(
            persona,
            input_tokens=int(inp),
            output_tokens=int(out),
            cache_read_tokens=int(cache_read),
            cache_write_tokens=int(cache_write),
            reasoning_tokens=int(reasoning),
            switches=int(switches),
            failed_gates=int(failed),
        )
        if source == REPORTED:
            entry.reported_cost_usd = float(reported)
        elif model:
            noon = int(day) * SECONDS_PER_DAY + SECONDS_PER_DAY / 2
            price = prices.lookup(model, noon)
            if price is None and source == INSTRUMENTATION:  # no price here: the library's
                entry.estimated_cost_usd = float(reported)
            elif price is None:
                entry.unpriced_tokens = int(inp) + int(out)
            else:
                entry.estimated_cost_usd = usd_of(
                    price.cost_femto(int(inp), int(out), int(cache_read), int(cache_write), 0)
                )
        yield int(day), entry


def totals_since(
    journal: Journal, prices: PriceTable, start: float, now: float | None = None
) -> list[PersonaStats]:
    """Per-persona totals from the UTC day containing ``start`` to today (never a
    later day, whatever a timestamp said), most spent first."""
    rows: dict[str, PersonaStats] = {}
    now = time.time() if now is None else now
    for _, part in _priced_rows(journal, prices, start, now):
        rows.setdefault(part.persona, PersonaStats(part.persona)).add(part)
    return sorted(rows.values(), key=lambda r: (-r.cost_usd, -r.tokens, r.persona))


def collect_stats(
    journal: Journal, config: Config, since: str, now: float | None = None
) -> list[PersonaStats]:
    """Per-persona totals since the start of today, this week or this month (UTC)."""
    now = time.time() if now is None else now
    return totals_since(journal, config.prices, period_start(now, SINCE[since]), now)


def daily_spend(journal: Journal, prices: PriceTable, days: int, now: float) -> list[float]:
    """US dollars spent on each of the last ``days`` UTC days, oldest first."""
    today = int(now // SECONDS_PER_DAY)
    first = today - days + 1
    spend = [0.0] * days
    for day, part in _priced_rows(journal, prices, first * SECONDS_PER_DAY, now):
        if first <= day <= today:
            spend[day - first] += part.cost_usd
    return spend


def budget_standings(journal: Journal, config: Config, now: float) -> list[Standing]:
    """Each budgeted persona's standing, from the per-day rows of the period
    ``now`` falls in (``total`` budgets count what the journal keeps: its
    retention): the exporter's ``BudgetBook.standings(now)`` of the same events."""
    book = BudgetBook(config.budgets)  # the exporter's own rule for which budget applies
    seen = {row[0] for row in journal.query("SELECT DISTINCT persona FROM daily")}
    #: Totals per period start: personas sharing a period share one journal read.
    totals: dict[float, dict[str, PersonaStats]] = {}
    found = []
    for persona in sorted(seen | {p for p in config.budgets if p != "default"}):
        budget = book.budget_for(persona)
        if budget is None:
            continue
        start = period_start(now, budget.period)
        if start not in totals:
            # The whole period, as the exporter counts it: an event stamped
            # later in it (a clock that stepped back since) counts too.
            end = period_end(now, budget.period)
            last = _LAST_TIME if end is None else end - 1
            rows = totals_since(journal, config.prices, start, last)
            totals[start] = {row.persona: row for row in rows}
        row = totals[start].get(persona)
        used = (
            PeriodUsage(start)
            if row is None
            else PeriodUsage(start, row.tokens, femto_of(row.cost_usd))
        )
        found.append(standing(persona, budget, used, now))
    return found


def standing_for(
    journal: Journal | None, config: Config, persona: str, now: float
) -> Standing | None:
    """``persona``'s standing at ``now`` from the journal (``None``: a journal
    not created yet, nothing spent); ``None`` when no budget applies."""
    budget = BudgetBook(config.budgets).budget_for(persona)
    if budget is None:
        return None
    if journal is not None:
        for found in budget_standings(journal, config, now):
            if found.persona == persona:
                return found
    return standing(persona, budget, unused(budget, now), now)


__all__ = [
    "SINCE",
    "PersonaStats",
    "budget_standings",
    "collect_stats",
    "daily_spend",
    "standing_for",
    "totals_since",
]
