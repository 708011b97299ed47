"""Token and spending budgets: periods on the UTC calendar and usage within them.

A budget belongs to a persona (or to ``default``, which covers every persona
without an entry of its own). Usage is accounted per period, by
each event's own time; a reader sees the period its "now" falls in, so a
new period starts from zero. Remaining may go negative: overspend is information.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from .money import femto_at_least, usd_of

#: Budget periods: UTC calendar days, ISO weeks and months, or no reset at all.
PERIODS = ("daily", "weekly", "monthly", "total")
#: Who shares a budget: each exporter on its own, or the whole fleet.
SCOPES = ("instance", "fleet")


def period_start(ts: float, period: str) -> float:
    """Unix time at which the period containing ``ts`` began (UTC calendar).

    Weeks start on Monday (ISO 8601). ``total`` never resets: it starts at 0.
    """
    if period == "total":
        return 0.0
    moment = datetime.fromtimestamp(ts, UTC)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "daily":
        start = day
    elif period == "weekly":
        start = day - timedelta(days=day.weekday())
    elif period == "monthly":
        start = day.replace(day=1)
    else:
        raise ValueError(f"period: must be one of {', '.join(PERIODS)} (got {period!r})")
    return start.timestamp()


def period_end(ts: float, period: str) -> float | None:
    """Unix time at which the period containing ``ts`` ends; ``None`` for ``total``."""
    if period == "total":
        return None
    start = datetime.fromtimestamp(period_start(ts, period), UTC)
    if period == "daily":
        end = start + timedelta(days=1)
    elif period == "weekly":
        end = start + timedelta(days=7)
    else:
        days = calendar.monthrange(start.year, start.month)[1]
        end = start + timedelta(days=days)
    return end.timestamp()


@dataclass(frozen=True, slots=True)
class Budget:
    """A persona's limits for one period. Either limit may be absent.

    ``scope``: ``instance`` (each exporter holds the persona to the limit on
    its own) or ``fleet`` (the limit is shared by every exporter that reports
    the persona; Prometheus' recording rules add their usage up and compare it
    with the limit once).
    """

    period: str
    tokens: int | None = None
    usd: float | None = None
    scope: str = "instance"

    def __post_init__(self) -> None:
        """Refuse a budget the fold could not apply, naming the field, when it
        is built in code (the config file's reader checks with line numbers)."""
        if self.period not in PERIODS:
            raise ValueError(f"period: must be one of {', '.join(PERIODS)} (got {self.period!r})")
        if self.scope not in SCOPES:
            raise ValueError(f"scope: must be one of {', '.join(SCOPES)} (got {self.scope!r})")
        for name, limit in (("tokens", self.tokens), ("usd", self.usd)):
            if limit is not None and (
                isinstance(limit, bool) or not isinstance(limit, int | float) or not limit >= 0
            ):
                raise ValueError(f"{name}: must be a non-negative number (got {limit!r})")


@dataclass(slots=True)
class PeriodUsage:
    """What a persona used in the period ``[period_start, period_end)``."""

    period_start: float
    tokens: int = 0
    #: Dollars as whole femto-dollars (``model.money``): exact in any order.
    femto: int = 0
    period_end: float = float("inf")

    @property
    def usd(self) -> float:
        return usd_of(self.femto)

    def add(self, tokens: int, femto: int) -> None:
        self.tokens += tokens
        self.femto += femto


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a persona stands against its budget now: what ``stats`` draws as a
    bar in the terminal and the status page as a bar in the browser."""

    persona: str
    period: str
    tokens_limit: int | None
    tokens_used: int
    usd_limit: float | None
    usd_used: float
    #: Seconds until the period resets; ``None`` for ``total``.
    resets_in: float | None
    #: "instance", or "fleet": a fleet's limit is shared, and this exporter
    #: knows only its own spend against it.
    scope: str = "instance"

    @property
    def bars(self) -> list[Bar]:
        """One bar per limit the budget sets: tokens, then US dollars."""
        found = []
        if self.tokens_limit is not None:
            found.append(Bar("tokens", self.tokens_used, self.tokens_limit))
        if self.usd_limit is not None:
            found.append(Bar("usd", self.usd_used, self.usd_limit))
        return found

    @property
    def left(self) -> float:
        """What is left of the first limit (tokens, else dollars); negative when overspent."""
        bars = self.bars
        return bars[0].left if bars else 0.0


@dataclass(frozen=True)
class Bar:
    """One limit of a standing, as a view draws it: tokens or US dollars."""

    #: "tokens" or "usd".
    unit: str
    used: float
    limit: float

    @property
    def fraction(self) -> float:
        """Used / limit; above 1 when overspent (a zero limit: 0, or 1 once used)."""
        if self.limit > 0:
            return self.used / self.limit
        return 1.0 if self.used > 0 else 0.0

    @property
    def left(self) -> float:
        """Limit - used: negative when overspent, never clamped."""
        return self.limit - self.used

    @property
    def overspent(self) -> bool:
        return self.used > self.limit

    def show(self, quantity: float) -> str:
        """A quantity of this bar's unit: "5,000" tokens, "$0.05"."""
        return f"{int(quantity):,}" if self.unit == "tokens" else f"${quantity:,.2f}"

    def amount(self, of: str = "of") -> str:
        """ "850 of 5,000 tokens", "$0.03 of $5.00"."""
        tokens = " tokens" if self.unit == "tokens" else ""
        return f"{self.show(self.used)} {of} {self.show(self.limit)}{tokens}"

    def left_text(self, overspent: str = "OVERSPENT") -> str:
        """ "4,150 left", "$4.97 left", or ``overspent`` by how much."""
        left = self.left
        text = self.show(abs(left))
        return f"{text} left" if left >= 0 else f"{overspent} by {text}"


def human_duration(seconds: float) -> str:
    """``4h 12m``, ``2d 3h``, ``35m``: a time to a budget's reset, for people."""
    minutes = int(seconds // 60)
    days, hours, mins = minutes // 1440, minutes % 1440 // 60, minutes % 60
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins}m" if hours else f"{mins}m"


def standing(persona: str, budget: Budget, usage: PeriodUsage, now: float) -> Standing:
    """The persona's standing from its budget and its usage in the current period."""
    end = period_end(now, budget.period)
    return Standing(
        persona,
        budget.period,
        budget.tokens,
        usage.tokens,
        budget.usd,
        usage.usd,
        None if end is None else end - now,
        budget.scope,
    )


#: Periods of usage kept per persona, latest first. The current one and the
#: one before it (whose late events still arrive), and one more: a clock that
#: jumped ahead and back leaves a later period on top, and the current one
#: must not be pushed out by it.
KEPT_PERIODS = 3


class BudgetBook:
    """Budgets from the config and each persona's usage in its latest periods.

    Usage is a function of the charges alone: each charge goes to the period
    its own timestamp falls in, whatever the exporter's clock says when it is
    folded, and the ``KEPT_PERIODS`` latest periods charged are kept. So the
    fold gives the same book in any order, at any time, after a restart, and
    as ``stats`` reads the journal; a reader picks the period by its own
    "now" (``snapshot_at``). A clock that steps back shows the earlier
    period's usage again until it catches up, never a mixture.
    """

    def __init__(self, budgets: dict[str, Budget] | None = None):
        self.budgets = dict(budgets or {})
        #: persona -> its periods' usage, latest first (at most ``KEPT_PERIODS``).
        self.usage: dict[str, list[PeriodUsage]] = {}

    def budget_for(self, persona: str) -> Budget | None:
        budget = self.budgets.get(persona)
        if budget is None:
            budget = self.budgets.get("default")
        return budget

    def period_of(self, persona: str, ts: float) -> PeriodUsage | None:
        """The persona's usage in the period containing ``ts``, begun if
        needed; ``None`` when no budget applies, or when the period is older
        than every kept one (too late to matter: the counters still have it).

        Which periods are kept does not depend on the order of the calls: the
        latest ``KEPT_PERIODS`` of all the periods asked for.
        """
        periods = self.usage.get(persona)
        if periods:
            latest = periods[0]
            if latest.period_start <= ts < latest.period_end:
                return latest  # the common case: no calendar arithmetic
            for usage in periods:
                if usage.period_start <= ts < usage.period_end:
                    return usage
        budget = self.budget_for(persona)
        if budget is None:
            return None
        usage = _usage_from(budget, period_start(ts, budget.period))
        if periods is None:
            periods = self.usage[persona] = []
        periods.append(usage)
        periods.sort(key=_latest_first)
        if len(periods) > KEPT_PERIODS and periods.pop() is usage:
            return None
        return usage

    def charge(self, persona: str, ts: float, tokens: int, femto: int) -> None:
        """Add usage at time ``ts`` (``femto``: its cost in whole femto-dollars)
        to the period ``ts`` falls in. A period's usage is the sum of its
        charges: the result does not depend on their order."""
        usage = self.period_of(persona, ts)
        if usage is not None:
            usage.add(tokens, femto)

    def charged_until(self, persona: str, ts: float) -> tuple[PeriodUsage | None, float]:
        """Where a charge at ``ts`` goes (``None``: too late to count), and the
        time before which every later timestamp goes there too: the batch
        fold charges the records of that span at once."""
        usage = self.period_of(persona, ts)
        if usage is not None:
            return usage, usage.period_end
        kept = self.usage.get(persona)
        # Older than every kept period: so is everything up to the oldest's start.
        return None, kept[-1].period_start if kept else float("inf")

    def personas(self) -> list[str]:
        """Personas with a budget to show: those configured and those seen."""
        named = [p for p in self.budgets if p != "default"]
        seen = [p for p in self.usage if p not in self.budgets]
        return sorted(set(named) | {p for p in seen if self.budget_for(p) is not None})

    def snapshot_at(self, persona: str, now: float) -> tuple[Budget, PeriodUsage] | None:
        """The persona's budget and its usage in the period containing ``now``
        (a copy: the caller may keep it while the fold goes on)."""
        budget = self.budget_for(persona)
        if budget is None:
            return None
        for usage in self.usage.get(persona, ()):
            if usage.period_start <= now < usage.period_end:
                return budget, replace(usage)
        return budget, unused(budget, now)

    def standing_of(self, persona: str, now: float) -> Standing | None:
        """``persona``'s standing at ``now``; ``None`` when no budget applies."""
        entry = self.snapshot_at(persona, now)
        return None if entry is None else standing(persona, entry[0], entry[1], now)

    def standings(self, now: float) -> list[Standing]:
        """Every budgeted persona's standing at ``now``, by persona."""
        found = (self.standing_of(persona, now) for persona in self.personas())
        return [entry for entry in found if entry is not None]

    def to_json(self) -> dict[str, list[list[float | int | str]]]:
        """Usage per persona and period as JSON-ready data, for journal snapshots."""
        # Femto-dollars as decimal text: past $9,223 they are past JSON's 64-bit integers.
        return {
            persona: [[u.period_start, u.tokens, u.usd, str(u.femto)] for u in periods]
            for persona, periods in self.usage.items()
        }

    def load_json(self, data: dict[str, Any]) -> None:
        """Restore usage written by ``to_json``, this version's or an older one's
        (one period per persona: ``[start, tokens, usd]``, later with the exact
        femto-dollars)."""
        self.usage = {}
        for persona, written in data.items():
            budget = self.budget_for(persona)
            if budget is None:
                continue
            one_period = not written or not isinstance(written[0], list)
            for start, tokens, usd, *exact in [written] if one_period else written:
                # Snapshots before exact sums kept the dollars only as a float.
                femto = int(exact[0]) if exact else femto_at_least(float(usd))
                usage = self.period_of(persona, float(start))
                if usage is not None:
                    usage.tokens, usage.femto = int(tokens), femto


def _latest_first(usage: PeriodUsage) -> float:
    return -usage.period_start


def _usage_from(budget: Budget, start: float) -> PeriodUsage:
    """No usage yet in ``budget``'s period that begins at ``start``."""
    end = period_end(start, budget.period)
    return PeriodUsage(start, 0, 0, float("inf") if end is None else end)


def unused(budget: Budget, now: float) -> PeriodUsage:
    """No usage yet in ``budget``'s period containing ``now``."""
    return _usage_from(budget, period_start(now, budget.period))


__all__ = [
    "KEPT_PERIODS",
    "PERIODS",
    "SCOPES",
    "Bar",
    "Budget",
    "BudgetBook",
    "PeriodUsage",
    "Standing",
    "human_duration",
    "period_end",
    "period_start",
    "standing",
    "unused",
]
