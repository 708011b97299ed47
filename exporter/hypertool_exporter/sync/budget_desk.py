"""Budget answers for an exporter with a journal: a check, a reservation, a
release, each from the journal's totals and its live reservations.

Why the journal and not the fold: a reservation is granted inside the
journal's write transaction, which sees every usage appended by every
process until that instant (the per-day totals are written in the same
transactions as the events), and the reservations their usage released.
The fold trails the journal by milliseconds, and a grant decided on it
could count a released reservation's usage nowhere. A check answers from
the same place, so a check and a reservation made one after the other agree;
``hypertool-exporter check`` reads the same totals with no server.
"""

from __future__ import annotations

from collections.abc import Callable

from ..journal.store import Journal
from ..journal.totals import standing_for
from ..journal.writer import JournalWriter
from ..model.budget_check import BudgetCheck, Held, Reservation, check, new_reservation_id
from ..model.config import Config


class BudgetDesk:
    """Checks, reservations and releases of one exporter's budgets, through
    its journal writer's connection; safe to call from several threads."""

    def __init__(self, writer: JournalWriter, config: Config, clock: Callable[[], float]):
        self._writer = writer
        self._config = config
        self._clock = clock

    def check(self, persona: str, tokens: int = 0, usd: float = 0.0) -> BudgetCheck:
        """Whether ``tokens`` and ``usd`` more fit ``persona``'s (validated)
        budget beside its live reservations, now."""
        now = self._clock()
        return self._writer.read(
            lambda journal: self._answer(
                journal, persona, tokens, usd, journal.held(persona, now), now
            )
        )

    def reserve(
        self, persona: str, tokens: int, usd: float, ttl_seconds: float
    ) -> tuple[Reservation | None, BudgetCheck]:
        """Hold ``tokens`` and ``usd`` of ``persona``'s budget for ``ttl_seconds``
        if they fit beside the other live reservations: the reservation (or
        ``None``, refused) and the answer it was decided on."""
        now = self._clock()
        wanted = Reservation(new_reservation_id(), persona, tokens, usd, now + ttl_seconds)
        answers: list[BudgetCheck] = []

        def decide(journal: Journal, held: Held) -> bool:
            answers.append(self._answer(journal, persona, tokens, usd, held, now))
            return answers[-1].allowed

        granted = self._writer.reserve(wanted, now, decide)
        return (wanted if granted else None), answers[-1]

    def cancel(self, persona: str, reservation_id: str) -> bool:
        """Release ``persona``'s live reservation ``reservation_id``; whether there was one."""
        return self._writer.cancel(persona, reservation_id, self._clock())

    def _answer(
        self, journal: Journal, persona: str, tokens: int, usd: float, held: Held, now: float
    ) -> BudgetCheck:
        standing = standing_for(journal, self._config, persona, now)
        return check(persona, standing, tokens, usd, held)


__all__ = ["BudgetDesk"]
