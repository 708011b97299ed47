"""``hypertool-exporter stats``: what each persona spent, read from the journal alone.

Answers "what did I spend today / this week / this month" without the
exporter running, from the per-day totals that every append keeps in the
journal, priced with the pricing table from the config.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..journal.rollup import DAILY_KEY, DAILY_TOTALS, REPORTED, SECONDS_PER_DAY
from ..journal.store import Journal, JournalError, default_journal_path
from ..model.budgets import period_start
from ..model.config import Config
from .commands import Command

_SINCE = {"today": "daily", "week": "weekly", "month": "monthly"}


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


def collect_stats(journal: Journal, config: Config, since: str, now: float | None = None):
    """Per-persona totals since the start of today, this week or this month (UTC).

    Each day's tokens are priced at that day's prices (at noon UTC), at the
    base tier: the per-day totals do not show single requests, so long-context
    tiers and time-of-day discounts are priced on ``/metrics`` only.
    """
    start = period_start(time.time() if now is None else now, _SINCE[since])
    rows: dict[str, PersonaStats] = {}
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
        + f" FROM daily WHERE day >= ? GROUP BY {', '.join(DAILY_KEY)}",
        (int(start // SECONDS_PER_DAY),),
    ):
        entry = rows.setdefault(persona, PersonaStats(persona))
        entry.input_tokens += int(inp)
        entry.output_tokens += int(out)
        entry.cache_read_tokens += int(cache_read)
        entry.cache_write_tokens += int(cache_write)
        entry.reasoning_tokens += int(reasoning)
        entry.switches += int(switches)
        entry.failed_gates += int(failed)
        if source == REPORTED:
            entry.reported_cost_usd += float(reported)
        elif model:
            noon = int(day) * SECONDS_PER_DAY + SECONDS_PER_DAY / 2
            price = config.prices.lookup(model, noon)
            if price is None:
                entry.unpriced_tokens += int(inp) + int(out)
            else:
                entry.estimated_cost_usd += price.cost(
                    int(inp), int(out), int(cache_read), int(cache_write), 0
                )
    return sorted(rows.values(), key=lambda r: (-r.cost_usd, -r.tokens, r.persona))


#: (column heading, value of a row): the table's columns, in order.
_COLUMNS: tuple[tuple[str, Callable[[PersonaStats], str]], ...] = (
    ("TOKENS", lambda s: str(s.tokens)),
    ("INPUT", lambda s: str(s.input_tokens)),
    ("CACHE_READ", lambda s: str(s.cache_read_tokens)),
    ("CACHE_WRITE", lambda s: str(s.cache_write_tokens)),
    ("OUTPUT", lambda s: str(s.output_tokens)),
    ("REASONING", lambda s: str(s.reasoning_tokens)),
    ("COST_USD", lambda s: f"{s.cost_usd:.4f}"),
    ("ESTIMATED", lambda s: f"{s.estimated_cost_usd:.4f}"),
    ("REPORTED", lambda s: f"{s.reported_cost_usd:.4f}"),
    ("UNPRICED", lambda s: str(s.unpriced_tokens)),
    ("SWITCHES", lambda s: str(s.switches)),
    ("FAILED_GATES", lambda s: str(s.failed_gates)),
)
#: Decimal places of US dollar amounts in JSON (a millionth of a dollar).
USD_DECIMALS = 6


def _total(stats: list[PersonaStats]) -> PersonaStats:
    total = PersonaStats("TOTAL")
    for s in stats:
        for name in fields(PersonaStats):
            if name.name != "persona":
                setattr(total, name.name, getattr(total, name.name) + getattr(s, name.name))
    return total


def format_table(stats: list[PersonaStats], since: str) -> str:
    """The table ``stats`` prints: a row per persona, then the totals.
    INPUT includes CACHE_READ and CACHE_WRITE; OUTPUT includes REASONING;
    COST_USD is ESTIMATED plus REPORTED."""
    lines = [("PERSONA", *(heading for heading, _ in _COLUMNS))]
    for row in [*stats, _total(stats)]:
        lines.append((row.persona, *(cell(row) for _, cell in _COLUMNS)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = [f"since start of {since} (UTC)"]
    for line in lines:
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells))
    return "\n".join(out)


def as_json(stats: list[PersonaStats]) -> list[dict]:
    """The JSON ``stats --json`` prints: dollars rounded to a millionth, no float noise."""
    out = []
    for s in stats:
        row = asdict(s)
        for key in ("estimated_cost_usd", "reported_cost_usd"):
            row[key] = round(row[key], USD_DECIMALS)
        row["cost_usd"] = round(s.cost_usd, USD_DECIMALS)
        row["tokens"] = s.tokens
        out.append(row)
    return out


def run(command: Command, values: dict) -> int:
    """``stats``: print the table (or JSON) for ``--since``."""
    from .main import load_config_or_exit

    config = load_config_or_exit(values["config"])
    return print_stats(values["journal"], config, values["since"], values["json"])


def print_stats(journal_path: str | None, config: Config, since: str, json_output: bool) -> int:
    """Print per-persona totals from the journal; 1 when the journal cannot be read."""
    path = Path(journal_path) if journal_path else default_journal_path()
    try:
        with Journal(path, create=False) as journal:
            stats = collect_stats(journal, config, since)
    except JournalError as exc:
        print(f"hypertool-exporter: error: {exc}", file=sys.stderr)
        return 1
    if json_output:
        print(json.dumps(as_json(stats), indent=2))
    else:
        print(format_table(stats, since))
    return 0


__all__ = ["PersonaStats", "as_json", "collect_stats", "format_table", "print_stats", "run"]
