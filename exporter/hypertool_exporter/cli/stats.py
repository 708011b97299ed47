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
from ..model.budgets import Bar, Standing, human_duration
from ..model.config import Config
from .options import Command

#: (column heading, value of a row): the table's columns, in order. The
#: default table is the first ``_NARROW``: it fits an 80-column terminal;
#: ``--wide`` adds the token parts and the cost's sources.
_COLUMNS: tuple[tuple[str, Callable[[PersonaStats], str]], ...] = (
    ("TOKENS", lambda s: str(s.tokens)),
    ("INPUT", lambda s: str(s.input_tokens)),
    ("OUTPUT", lambda s: str(s.output_tokens)),
    # Marked when tokens nobody priced are left out: never a bare 0.0000.
    ("COST_USD", lambda s: f"{s.cost_usd:.4f}{'*' if s.unpriced_tokens else ''}"),
    ("SWITCHES", lambda s: str(s.switches)),
    ("FAILED_GATES", lambda s: str(s.failed_gates)),
    ("CACHE_READ", lambda s: str(s.cache_read_tokens)),
    ("CACHE_WRITE", lambda s: str(s.cache_write_tokens)),
    ("REASONING", lambda s: str(s.reasoning_tokens)),
    ("ESTIMATED", lambda s: f"{s.estimated_cost_usd:.4f}"),
    ("REPORTED", lambda s: f"{s.reported_cost_usd:.4f}"),
    ("UNPRICED", lambda s: str(s.unpriced_tokens)),
)
_NARROW = 6
#: The width of a terminal the default output fits.
WIDTH = 80
#: The narrowest the persona column gets to fit it (longer names are cut).
MIN_PERSONA_WIDTH = 10
#: Decimal places of US dollar amounts in JSON (a millionth of a dollar).
USD_DECIMALS = 6


def _total(stats: list[PersonaStats]) -> PersonaStats:
    total = PersonaStats("TOTAL")
    for row in stats:
        total.add(row)
    return total


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "\u2026"


def format_table(stats: list[PersonaStats], since: str, *, wide: bool = False) -> str:
    """The table ``stats`` prints: a row per persona, then the totals.
    INPUT includes CACHE_READ and CACHE_WRITE; OUTPUT includes REASONING;
    COST_USD is ESTIMATED plus REPORTED. Without ``wide`` it fits ``WIDTH``
    columns (persona names cut to fit, when they must)."""
    columns = _COLUMNS if wide else _COLUMNS[:_NARROW]
    lines = [("PERSONA", *(heading for heading, _ in columns))]
    for row in [*stats, _total(stats)]:
        lines.append((row.persona, *(cell(row) for _, cell in columns)))
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    if not wide:
        rest = sum(widths[1:]) + 2 * (len(widths) - 1)
        widths[0] = max(MIN_PERSONA_WIDTH, min(widths[0], WIDTH - rest))
    out = [f"since start of {since} (UTC)"]
    for line in lines:
        cells = [_cut(line[0], widths[0]).ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells))
    unpriced = sum(row.unpriced_tokens for row in stats)
    if unpriced:
        out.append(f"* {unpriced:,} tokens of models with no price are not in the cost")
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


BAR_WIDTH = 16
MIN_BAR_WIDTH = 8
_UNIT_NAMES = {"tokens": "tokens", "usd": "USD"}
_GREEN, _YELLOW, _RED, _RESET = "\033[32m", "\033[33m", "\033[31m", "\033[0m"


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A bar of Unicode blocks, full (and marked ``!``) when overspent."""
    filled = min(width, max(0, round(fraction * width)))
    return "\u2588" * filled + "\u2591" * (width - filled) + ("!" if fraction > 1 else " ")


def _bar_lines(limit: Bar, colour: bool) -> list[str]:
    """A limit's line: its unit, a bar, the share used, the amount and what
    is left. The bar gives up width (to ``MIN_BAR_WIDTH``) for long figures;
    what is left goes on a line of its own when even that does not fit."""
    fraction = limit.fraction
    unit = _UNIT_NAMES[limit.unit]
    figures = f"{fraction:>4.0%}  {limit.show(limit.used)} of {limit.show(limit.limit)}"
    left = limit.left_text()
    room = WIDTH - len(f"  {unit:<6} ") - 1 - len(f" {figures}  {left}")
    width = max(MIN_BAR_WIDTH, min(BAR_WIDTH, room))
    drawn = bar(fraction, width)
    if colour:
        tint = _RED if fraction >= 0.9 else _YELLOW if fraction >= 0.75 else _GREEN
        drawn = f"{tint}{drawn}{_RESET}"
    start = f"  {unit:<6} {drawn} {figures}"
    if room >= MIN_BAR_WIDTH:
        return [f"{start}  {left}"]
    return [start, f"{' ' * 9}{left}"]


def format_budgets(standings: list[Standing], colour: bool) -> str:
    """Each budgeted persona on a line with its period and reset, then a line
    per limit (tokens, then US dollars): a bar, the share used, the amount
    and what is left; within ``WIDTH`` columns. Colour (green, yellow from
    75%, red from 90%) only when asked, for a terminal."""
    if not standings:
        return ""
    lines = ["budgets (current UTC period)"]
    for s in standings:
        reset = (
            "never resets" if s.resets_in is None else f"resets in {human_duration(s.resets_in)}"
        )
        scope = ", fleet" if s.scope == "fleet" else ""
        heading = f"{s.period}{scope}, {reset}"
        name = _cut(s.persona, WIDTH - len(heading) - 2)
        lines.append(f"{name}  {heading.rjust(WIDTH - len(name) - 2)}")
        for limit in s.bars:
            lines.extend(_bar_lines(limit, colour))
    return "\n".join(lines)


def run(command: Command, values: dict[Any, Any]) -> int:
    """``stats``: print the table (or JSON) for ``--since``."""
    from .main import load_config_or_exit

    if values.get("prometheus"):
        return print_fleet_stats(
            values["prometheus"],
            values["since"],
            values["json"],
            values["selector"],
            wide=bool(values.get("wide")),
        )
    config = load_config_or_exit(values["config"])
    return print_stats(
        values["journal"],
        config,
        values["since"],
        values["json"],
        wide=bool(values.get("wide")),
        configured=bool(values["config"]),
    )


def _print(
    stats: list[PersonaStats],
    since: str,
    json_output: bool,
    *,
    source: str = "",
    standings: Sequence[Standing] = (),
    wide: bool = False,
    hint: str = "",
) -> None:
    """JSON, or the table (naming its ``source``) with the budget bars under
    it, or the ``hint`` saying why there are none."""
    if json_output:
        print(json.dumps(as_json(stats), indent=2))
        return
    table = format_table(stats, since, wide=wide)
    print(table.replace("(UTC)", f"(UTC), {source}", 1) if source else table)
    budgets = format_budgets(list(standings), colour=sys.stdout.isatty())
    if budgets or hint:
        print()
        print(budgets or hint)


def print_fleet_stats(
    url: str, since: str, json_output: bool, selector: str, *, wide: bool = False
) -> int:
    """The table (or JSON) for the whole fleet, from Prometheus; 1 when it cannot answer."""
    from .fleet import PrometheusError, fleet_stats

    try:
        stats = fleet_stats(url, since, selector)
    except PrometheusError as exc:
        print(f"hypertool-exporter: error: {exc}", file=sys.stderr)
        return 1
    _print(stats, since, json_output, source=f"fleet from {url}", wide=wide)
    return 0


#: Said under the table when no budget applies and no config was given.
NO_CONFIG_HINT = "no budgets: give --config FILE (or set HYPERTOOL_CONFIG) to draw their bars"


def print_stats(
    journal_path: str | None,
    config: Config,
    since: str,
    json_output: bool,
    *,
    wide: bool = False,
    configured: bool = True,
) -> int:
    """Print per-persona totals from the journal; 1 when the journal cannot be
    read. ``configured``: whether a config was given (without one, and so
    without budgets, the output says how to get their bars)."""
    path = Path(journal_path) if journal_path else default_journal_path()
    if not Path(path).exists():  # a fresh install: nothing recorded, not an error
        if json_output:
            print("[]")
        else:
            print(
                f"nothing recorded yet: {path} does not exist.\n"
                "Record an event with (or give --journal):\n"
                "  hypertool-exporter tokens PERSONA --model MODEL --input N"
            )
        return 0
    try:
        with Journal(path, create=False) as journal:
            stats = collect_stats(journal, config, since)
            standings = budget_standings(journal, config, time.time())
    except JournalError as exc:
        print(f"hypertool-exporter: error: {exc}", file=sys.stderr)
        return 1
    hint = "" if standings or configured else NO_CONFIG_HINT
    _print(stats, since, json_output, standings=standings, wide=wide, hint=hint)
    return 0


__all__ = [
    "as_json",
    "bar",
    "format_budgets",
    "format_table",
    "print_stats",
    "run",
]
