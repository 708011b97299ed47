"""Spend by persona and by day, read from the journal's per-day totals for the
status page: one read connection, opened once and kept, not one per request.

A journal that cannot be read gives ``None`` (the page says spend by day is
not kept) and the connection is opened again on the next request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ..journal.store import Journal, JournalError
from ..journal.totals import daily_spend, totals_since
from ..model.budgets import period_start
from ..model.pricing import PriceTable


@dataclass(frozen=True, slots=True)
class Spend:
    """US dollars by persona (today, this month), and by day (oldest first)."""

    by_persona: dict[str, tuple[float, float]]
    by_day: list[float]


class JournalSpend:
    """Reads ``Spend`` from a journal; safe to call from several threads."""

    def __init__(self, path: str | Path, prices: PriceTable, days: int):
        self.path = Path(path)
        self.prices = prices
        self.days = days
        self._journal: Journal | None = None
        self._lock = threading.Lock()

    def __call__(self, now: float) -> Spend | None:
        """The spend at ``now``; ``None`` while the journal cannot be read."""
        with self._lock:
            try:
                if self._journal is None:
                    self._journal = Journal(self.path, create=False)
                journal, prices = self._journal, self.prices
                month = totals_since(journal, prices, period_start(now, "monthly"), now)
                today = {r.persona: r.cost_usd for r in totals_since(journal, prices, now, now)}
                line = daily_spend(journal, prices, self.days, now)
            except JournalError:
                self._close()
                return None
        by_persona = {r.persona: (today.get(r.persona, 0.0), r.cost_usd) for r in month}
        return Spend(by_persona, line)

    def _close(self) -> None:
        if self._journal is not None:
            self._journal.close()
            self._journal = None

    def close(self) -> None:
        """Close the connection (the next call opens it again)."""
        with self._lock:
            self._close()


__all__ = ["JournalSpend", "Spend"]
