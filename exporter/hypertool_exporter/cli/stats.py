"""``hypertool-exporter stats``: what each persona spent, read from the journal alone.

Answers "what did I spend today / this week / this month" without the
exporter running, from the per-day totals that every append keeps in the
journal, priced with the pricing table from the config.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..journal.store import Journal, JournalError, default_journal_path
from ..model.budgets import period_start
from ..model.config import Config
from .commands import Command

_SINCE = {"today": "daily", "week": "weekly", "month": "monthly"}


@dataclass
class PersonaStats:
    """One persona's totals over the period asked for."""

    persona: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    switches: int = 0
    failed_gates: int = 0

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


def collect_stats(journal: Journal, config: Config, since: str, now: float | None = None):
    """Per-persona totals since the start of today, this week or this month (UTC)."""
    start = period_start(time.time() if now is None else now, _SINCE[since])
    rows: dict[str, PersonaStats] = {}
    for persona, model, inp, out, switches, failed in journal.query(
        "SELECT persona, model, sum(input_tokens), sum(output_tokens), sum(switches), "
        "sum(failed_gates) FROM daily WHERE day >= ? GROUP BY persona, model",
        (int(start // 86400),),
    ):
        entry = rows.setdefault(persona, PersonaStats(persona))
        entry.input_tokens += int(inp)
        entry.output_tokens += int(out)
        entry.switches += int(switches)
        entry.failed_gates += int(failed)
        if model:
            entry.cost_usd += config.prices.cost(model, int(inp), int(out)) or 0.0
    return sorted(rows.values(), key=lambda r: (-r.cost_usd, -r.tokens, r.persona))


def format_table(stats: list[PersonaStats], since: str) -> str:
    header = ("PERSONA", "TOKENS", "INPUT", "OUTPUT", "COST_USD", "SWITCHES", "FAILED_GATES")
    lines = [header]
    for s in stats:
        lines.append(
            (
                s.persona,
                str(s.tokens),
                str(s.input_tokens),
                str(s.output_tokens),
                f"{s.cost_usd:.4f}",
                str(s.switches),
                str(s.failed_gates),
            )
        )
    total = (
        "TOTAL",
        str(sum(s.tokens for s in stats)),
        str(sum(s.input_tokens for s in stats)),
        str(sum(s.output_tokens for s in stats)),
        f"{sum(s.cost_usd for s in stats):.4f}",
        str(sum(s.switches for s in stats)),
        str(sum(s.failed_gates for s in stats)),
    )
    lines.append(total)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = [f"since start of {since} (UTC)"]
    for line in lines:
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells))
    return "\n".join(out)


def run(command: Command, values: dict) -> int:
    """``stats``: print the table (or JSON) for ``--since``."""
    from .main import load_config_or_exit

    config = load_config_or_exit(values["config"])
    return print_stats(values["journal"], config, values["since"], values["json"])


def print_stats(journal_path: str | None, config: Config, since: str, as_json: bool) -> int:
    """Print per-persona totals from the journal; 1 when the journal cannot be read."""
    path = Path(journal_path) if journal_path else default_journal_path()
    try:
        with Journal(path, create=False) as journal:
            stats = collect_stats(journal, config, since)
    except JournalError as exc:
        print(f"hypertool-exporter: error: {exc}", file=sys.stderr)
        return 1
    if as_json:
        print(json.dumps([{**asdict(s), "tokens": s.tokens} for s in stats], indent=2))
    else:
        print(format_table(stats, since))
    return 0


__all__ = ["PersonaStats", "collect_stats", "format_table", "print_stats", "run"]
