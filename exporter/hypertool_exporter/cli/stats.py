"""``hypertool-exporter stats``: what each persona spent, read from the journal alone.

Answers "what did I spend today / this week / this month" without the
exporter running, from the per-day totals that every append keeps in the
journal, priced with the pricing table from the config.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..journal.store import Journal, JournalError, default_journal_path
from ..journal.totals import PersonaStats, budget_standings, collect_stats
from ..model.budgets import Standing, human_duration
from ..model.config import Config
from .commands import Command

#: (column heading, value of a row): the table's columns, in order.
_COLUMNS: tuple[tuple[str, Callable[[PersonaStats], str]], ...] = (
    ("TOKENS", lambda s: str(s.tokens)),
    ("INPUT", lambda s: str(s.input_tokens)),
    ("CACHE_READ", lambda s: str(s.cache_read_tokens)),
    ("CACHE_WRITE", lambda s: str(s.cache_write_tokens)),
    ("OUTPUT", lambda s: str(s.output_tokens)),
    ("REASONING", lambda s: str(s.reasoning_tokens)),
    # Marked when tokens nobody priced are left out: never a bare 0.0000.
    ("COST_USD", lambda s: f"{s.cost_usd:.4f}{'*' if s.unpriced_tokens else ''}"),
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
    for row in stats:
        total.add(row)
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
    if any(row.unpriced_tokens for row in stats):
        out.append("* plus the UNPRICED tokens of models with no price: their cost is not counted")
    return "\n".join(out)


def as_json(stats: list[PersonaStats]) -> list[dict[Any, Any]]:
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


BAR_WIDTH = 20
_GREEN, _YELLOW, _RED, _RESET = "\033[32m", "\033[33m", "\033[31m", "\033[0m"


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A bar of Unicode blocks, full (and marked ``!``) when overspent."""
    filled = min(width, max(0, round(fraction * width)))
    return "\u2588" * filled + "\u2591" * (width - filled) + ("!" if fraction > 1 else " ")


def format_budgets(standings: list[Standing], colour: bool) -> str:
    """One line per limit of each budgeted persona (tokens, then US dollars): a
    bar, the share used, what is left and when it resets. Colour (green,
    yellow from 75%, red from 90%) only when asked, for a terminal."""
    if not standings:
        return ""
    width = max(len(s.persona) for s in standings)
    lines = ["budgets (current UTC period)"]
    for s in standings:
        reset = (
            "never resets" if s.resets_in is None else f"resets in {human_duration(s.resets_in)}"
        )
        for index, limit in enumerate(s.bars):
            fraction = limit.fraction
            drawn = bar(fraction)
            if colour:
                tint = _RED if fraction >= 0.9 else _YELLOW if fraction >= 0.75 else _GREEN
                drawn = f"{tint}{drawn}{_RESET}"
            name = s.persona if index == 0 else ""
            lines.append(
                f"{name.ljust(width)}  {drawn} {fraction:>4.0%}  {limit.amount()} {s.period}"
                f"  {limit.left_text()}  {reset}"
            )
    return "\n".join(lines)


def run(command: Command, values: dict[Any, Any]) -> int:
    """``stats``: print the table (or JSON) for ``--since``."""
    from .main import load_config_or_exit

    if values.get("prometheus"):
        return print_fleet_stats(
            values["prometheus"], values["since"], values["json"], values["selector"]
        )
    config = load_config_or_exit(values["config"])
    return print_stats(values["journal"], config, values["since"], values["json"])


def _print(
    stats: list[PersonaStats],
    since: str,
    json_output: bool,
    *,
    source: str = "",
    standings: Sequence[Standing] = (),
) -> None:
    """JSON, or the table (naming its ``source``) with the budget bars under it."""
    if json_output:
        print(json.dumps(as_json(stats), indent=2))
        return
    table = format_table(stats, since)
    print(table.replace("(UTC)", f"(UTC), {source}", 1) if source else table)
    budgets = format_budgets(list(standings), colour=sys.stdout.isatty())
    if budgets:
        print()
        print(budgets)


def print_fleet_stats(url: str, since: str, json_output: bool, selector: str) -> int:
    """The table (or JSON) for the whole fleet, from Prometheus; 1 when it cannot answer."""
    from .fleet import PrometheusError, fleet_stats

    try:
        stats = fleet_stats(url, since, selector)
    except PrometheusError as exc:
        print(f"hypertool-exporter: error: {exc}", file=sys.stderr)
        return 1
    _print(stats, since, json_output, source=f"fleet from {url}")
    return 0


def print_stats(journal_path: str | None, config: Config, since: str, json_output: bool) -> int:
    """Print per-persona totals from the journal; 1 when the journal cannot be read."""
    path = Path(journal_path) if journal_path else default_journal_path()
    if not Path(path).exists():  # a fresh install: nothing recorded, not an error
        if json_output:
            print("[]")
        else:
            print(
                f"nothing recorded yet: {path} does not exist. Record an event with "
                "`hypertool-exporter tokens PERSONA --model MODEL --input N` (or give --journal)."
            )
        return 0
    try:
        with Journal(path, create=False) as journal:
            stats = collect_stats(journal, config, since)
            standings = budget_standings(journal, config, time.time())
    except JournalError as exc:
        print(f"hypertool-exporter: error: {exc}", file=sys.stderr)
        return 1
    _print(stats, since, json_output, standings=standings)
    return 0


__all__ = [
    "as_json",
    "bar",
    "format_budgets",
    "format_table",
    "print_stats",
    "run",
]
