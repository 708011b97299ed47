"""``hypertool-exporter check PERSONA --tokens N [--usd X] [--reserve SECONDS]``:
may a shell agent spend this much now?

Answered from the journal and the config's budgets, with no server, by the
same rule and from the same figures as ``GET /v1/budgets/{persona}``
(``sync.budget_desk``): what is used, and what live reservations hold.
Exit 0 when the amount fits (or no budget applies), 1 when it does not,
with one line saying why; 2 for bad input. A journal not created yet means
nothing was spent. With ``--reserve``, a fitting amount is also held for
that many seconds and the reservation's id is printed alone on stdout (the
line saying why goes to stderr), for ``tokens --reservation-id``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

from ..journal.store import JournalError, default_journal_path
from ..journal.totals import standing_for
from ..model.budget_check import BudgetCheck, check, ttl_value
from ..model.config import Config
from ..model.fields import (
    EventError,
    count_value,
    label_value,
    money_value,
    number_from_text,
)
from .options import Command

EXIT_REFUSED = 1


def run(command: Command, values: dict[str, Any]) -> int:
    """Print whether the amount fits; 0 when it does, 1 when it does not."""
    from .main import fail, load_config_or_exit

    try:
        persona = label_value("persona", values["persona"], persona=True)
        tokens = count_value("--tokens", number_from_text("--tokens", values["tokens"], whole=True))
        usd = money_value("--usd", number_from_text("--usd", values["usd"], whole=False)) or 0.0
        ttl = None
        if values.get("reserve") is not None:
            ttl = ttl_value(
                "--reserve", number_from_text("--reserve", values["reserve"], whole=False)
            )
    except EventError as exc:
        return fail(str(exc))
    config = load_config_or_exit(values["config"])
    path = Path(values["journal"] or default_journal_path())
    try:
        if ttl is None and not path.exists():  # nothing recorded yet: nothing spent
            answer = check(persona, standing_for(None, config, persona, time.time()), tokens, usd)
        else:
            answer, reservation_id = _from_journal(path, config, persona, tokens, usd, ttl)
    except JournalError as exc:
        return fail(str(exc), code=EXIT_REFUSED)
    if ttl is not None and answer.allowed:
        print(answer.explain(), file=sys.stderr)
        print(reservation_id)
        return 0
    print(answer.explain())
    return 0 if answer.allowed else EXIT_REFUSED


def _from_journal(
    path: Path, config: Config, persona: str, tokens: int, usd: float, ttl: float | None
) -> tuple[BudgetCheck, str | None]:
    """The answer from the journal, and the id of the reservation asked for, if granted."""
    from ..journal.writer import JournalWriter
    from ..sync.budget_desk import BudgetDesk

    writer = JournalWriter(path)
    try:
        desk = BudgetDesk(writer, config, time.time)
        if ttl is None:
            return desk.check(persona, tokens, usd), None
        reservation, answer = desk.reserve(persona, tokens, usd, ttl)
        return answer, None if reservation is None else reservation.id
    finally:
        writer.close()


__all__ = ["EXIT_REFUSED", "run"]
