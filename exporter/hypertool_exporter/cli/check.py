"""``hypertool-exporter check PERSONA --tokens N [--usd X]``: may a shell agent
spend this much now?

Answered from the journal and the config's budgets, with no server, by the
same rule as ``GET /v1/budgets/{persona}`` and ``collector.check_budget``
(``model.budget_check``). Exit 0 when the amount fits (or no budget
applies), 1 when it does not, with one line saying why; 2 for bad input.
A journal not created yet means nothing was spent.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from ..journal.store import Journal, JournalError, default_journal_path
from ..journal.totals import standing_for
from ..model.budget_check import check
from ..model.fields import EventError, count_value, label_value, money_value, number_from_text
from .commands import Command

EXIT_REFUSED = 1


def run(command: Command, values: dict[str, Any]) -> int:
    """Print whether the amount fits; 0 when it does, 1 when it does not."""
    from .main import fail, load_config_or_exit

    try:
        persona = label_value("persona", values["persona"], persona=True)
        tokens = count_value("--tokens", number_from_text("--tokens", values["tokens"], whole=True))
        usd = money_value("--usd", number_from_text("--usd", values["usd"], whole=False)) or 0.0
    except EventError as exc:
        return fail(str(exc))
    config = load_config_or_exit(values["config"])
    path = Path(values["journal"] or default_journal_path())
    now = time.time()
    try:
        if path.exists():
            with Journal(path, create=False) as journal:
                standing = standing_for(journal, config, persona, now)
        else:  # nothing recorded yet: nothing spent
            standing = standing_for(None, config, persona, now)
    except JournalError as exc:
        return fail(str(exc), code=EXIT_REFUSED)
    answer = check(persona, standing, tokens, usd)
    print(answer.explain())
    return 0 if answer.allowed else EXIT_REFUSED


__all__ = ["EXIT_REFUSED", "run"]
