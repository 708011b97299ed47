"""Per-day totals derived from typed events, in one place.

The journal keeps a ``daily`` table beside the events, written in the same
transaction as each append, so ``stats`` answers from a few hundred rows
however long the journal is. What an event adds to that table is decided
here, by the event's class, and nowhere else.

Stdlib and ``model.events`` only: the recording CLI imports this.
"""

from __future__ import annotations

from ..model.events import LLMCallFinished, PersonaSwitched, StageFinished, TokensUsed
from ..model.fields import FAILED

TYPE_CHECKING = False
if TYPE_CHECKING:  # not imported at run time: it slows CLI start-up
    from collections.abc import Callable

    from ..model.events import Event

SECONDS_PER_DAY = 86400

#: Columns of a ``daily`` row, in order: the key (day, persona, model), then the totals.
DAILY_COLUMNS = (
    "day",
    "persona",
    "model",
    "input_tokens",
    "output_tokens",
    "switches",
    "failed_gates",
)

#: A ``daily`` row: (day number since the epoch, persona, model or "", totals...).
DailyRow = tuple


def _day(ts: float) -> int:
    return int(ts // SECONDS_PER_DAY)


def _tokens(ev: TokensUsed) -> DailyRow:
    return (_day(ev.ts), ev.persona, ev.model, ev.input_tokens, ev.output_tokens, 0, 0)


def _switch(ev: PersonaSwitched) -> DailyRow:
    return (_day(ev.ts), ev.to_persona, "", 0, 0, 1, 0)


def _stage(ev: StageFinished) -> DailyRow | None:
    if ev.gate != FAILED:
        return None
    return (_day(ev.ts), ev.persona, "", 0, 0, 0, 1)


def _none(ev: LLMCallFinished) -> None:
    return None


_ROLLUPS: dict[type, Callable] = {
    TokensUsed: _tokens,
    PersonaSwitched: _switch,
    StageFinished: _stage,
    LLMCallFinished: _none,
}


def daily_row(event: Event) -> DailyRow | None:
    """The per-day totals ``event`` adds to, or ``None`` when it adds to none."""
    return _ROLLUPS[type(event)](event)


def persona_of(event: Event) -> str:
    """The persona an event concerns: the one entered for a switch."""
    return event.to_persona if isinstance(event, PersonaSwitched) else event.persona


__all__ = ["DAILY_COLUMNS", "SECONDS_PER_DAY", "DailyRow", "daily_row", "persona_of"]
