"""Budget reservations: an amount of a persona's budget held for a call not
made yet, kept in the journal so every process on the machine sees it.

An agent reserves before it spends (``POST /v1/budgets/{persona}/reservations``);
the reservation counts against the budget until its usage arrives naming it
(``reservation_id`` on the usage event, deleted in the transaction that
appends the usage, so the amount is never counted twice nor dropped
between the two) or until its time to live passes. The decision to grant
one is taken inside a write transaction (``BEGIN IMMEDIATE``), which SQLite
holds for one process at a time: two agents asking at once cannot both be
given the last of a budget.

Stdlib only, and light: the recording CLI releases reservations.
"""

from __future__ import annotations

from . import driver

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..model.budget_check import Held, Reservation

RESERVATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS reservations (id TEXT PRIMARY KEY, persona TEXT NOT NULL, "
    "tokens INTEGER NOT NULL, usd_femto INTEGER NOT NULL, created REAL NOT NULL, "
    "expires REAL NOT NULL)"
)


def held(cur: driver.Cursor, persona: str, now: float) -> Held:
    """What ``persona``'s live reservations hold at ``now``."""
    from ..model.budget_check import Held  # not on the recording CLI's path
    from ..model.money import usd_of

    tokens, femto = cur.execute(
        "SELECT coalesce(sum(tokens), 0), coalesce(sum(usd_femto), 0) FROM reservations "
        "WHERE persona = ? AND expires > ?",
        (persona, now),
    ).fetchone()
    return Held(int(tokens), usd_of(int(femto)))


def insert(cur: driver.Cursor, reservation: Reservation, now: float) -> None:
    """Store ``reservation``, and drop the expired ones (nothing else does)."""
    from ..model.money import femto_of

    cur.execute("DELETE FROM reservations WHERE expires <= ?", (now,))
    cur.execute(
        "INSERT INTO reservations (id, persona, tokens, usd_femto, created, expires) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            reservation.id,
            reservation.persona,
            reservation.tokens,
            femto_of(reservation.usd),
            now,
            reservation.expires,
        ),
    )


def release(cur: driver.Cursor, ids: list[str]) -> int:
    """Delete the reservations ``ids`` name (unknown or expired ones are no
    error: the usage is recorded all the same); returns how many were live."""
    released = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        released += cur.execute(f"DELETE FROM reservations WHERE id IN ({marks})", chunk).rowcount
    return released


def cancel(cur: driver.Cursor, persona: str, reservation_id: str, now: float) -> bool:
    """Release ``persona``'s live reservation ``reservation_id``; whether there was one."""
    found = cur.execute(
        "DELETE FROM reservations WHERE id = ? AND persona = ? AND expires > ?",
        (reservation_id, persona, now),
    )
    return found.rowcount > 0


__all__ = ["RESERVATIONS_TABLE", "cancel", "held", "insert", "release"]
