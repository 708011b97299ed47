"""Dollars as whole femto-dollars (10^-15 USD): sums that do not depend on order.

Why integers: the fold adds a cost per token event to a counter and to a
budget. Added as floats, the sum's last bits depend on the order and the
grouping of the additions, so events added up first (the in-process hot
path folds a label set's records together) or replayed in another grouping
would give a slightly different counter, and a counter that comes back a hair
lower after a restart is a reset to Prometheus. Whole femto-dollars add up
exactly in any order. A per-token rate of a price with up to 12 decimals per
1,000 tokens is a whole number of them, so a cost is exact too; the counters
show ``usd_of`` the exact sum.
"""

from __future__ import annotations

#: Femto-dollars in a dollar: a float (exactly 10^15), so that showing a sum
#: is one float division: for sums to about $9 (2^53 femto-dollars) that is
#: the nearest float, above it within one unit in the last place; either way
#: a function of the exact sum alone, which never goes down as the sum grows.
#: (Dividing two ints rounds once, but takes four times as long past 2^53.)
FEMTO_PER_USD = 1e15


def femto_of(usd: float) -> int:
    """``usd`` in whole femto-dollars, rounded to the nearest."""
    return round(usd * FEMTO_PER_USD)


def femto_at_least(usd: float) -> int:
    """The fewest whole femto-dollars that show as at least ``usd``: a float
    sum from an older snapshot restored exactly or a hair higher, never lower
    (a counter that went down would be a reset)."""
    femto = femto_of(usd)
    while usd_of(femto) < usd:
        femto += 1
    return femto


def usd_of(femto: int) -> float:
    """Whole femto-dollars as dollars (see ``FEMTO_PER_USD``)."""
    return femto / FEMTO_PER_USD


__all__ = ["FEMTO_PER_USD", "femto_at_least", "femto_of", "usd_of"]
