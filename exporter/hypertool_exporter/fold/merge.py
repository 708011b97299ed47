"""Two folds of one journal's rows, split between them by event kind, made
one: the state a single fold of every row in journal order reaches, or a
``MergeConflict`` when that cannot be shown.

A split replay (``sync.splitter``) folds some kinds of rows in a helper
process and the others here, both from the same starting state (``base``).
Each part of the state (a series of a metric, the sessions, the budgets...)
is then in one of two cases:

- only one fold changed it: that fold's value is the single fold's, order
  included (the single fold would have made the same changes, in the same
  order, to a part nothing else touches);
- both changed it: the merge refuses. (Counts could be added up exactly,
  but no split by kind makes two kinds count into one series, so there is
  nothing to gain by it.)

Label admissions are the one shared decision: a guarded label admits new
values up to its cap (``fold.cardinality``). While the values both folds
admitted fit under the cap together, the single fold would have admitted
every one of them as well, and refused the same others; past it, the order
decides, and the merge refuses.

The kinds are split so that no two kinds change one histogram, the sessions
or a budget: refusals are for what a later event kind might bring, and the
replay then folds the rows in one process instead.
"""

from __future__ import annotations

from typing import Any

#: A snapshot's rows of one metric: [(label key, value...), ...].
Rows = list[Any]


class MergeConflict(Exception):
    """The two folds changed one part of the state in ways whose order matters."""


def merge(
    base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any], cap: int
) -> dict[str, Any]:
    """The snapshot JSON (``MetricState.to_json``) of folding both parts'
    rows in journal order, from the snapshots of ``base`` and of the two
    folds that started from it; ``cap``: the label cap both folds used."""
    merged = dict(ours)
    for part in ("counters", "money", "histograms"):
        merged[part] = {
            name: _series(name, base[part].get(name, []), rows, theirs[part].get(name, []))
            for name, rows in ours[part].items()
        }
    for part in ("sessions", "budgets", "failing_since"):
        merged[part] = _whole(part, base[part], ours[part], theirs[part])
    merged["guard"] = _guard(base["guard"], ours["guard"], theirs["guard"], cap)
    return merged


def _whole(part: str, base: Any, ours: Any, theirs: Any) -> Any:
    """A part compared whole (its order included): one fold's changes, or a conflict."""
    if _same(theirs, base):
        return ours
    if _same(ours, base):
        return theirs
    raise MergeConflict(f"both folds changed the {part}")


def _same(one: Any, other: Any) -> bool:
    """Equal, and for mappings in the same order (sessions are evicted oldest first)."""
    if isinstance(one, dict) and isinstance(other, dict):
        return list(one.items()) == list(other.items())
    return bool(one == other)


def _series(name: str, base: Rows, ours: Rows, theirs: Rows) -> Rows:
    """One metric's rows (label key, values...): ``ours`` in their order,
    each series only ``theirs`` changed as they left it, and the series only
    ``theirs`` made after them."""
    if theirs == base:
        return ours
    if ours == base:
        return theirs
    was = {tuple(row[0]): row for row in base}
    mine = {tuple(row[0]): row for row in ours}
    for row in theirs:
        key = tuple(row[0])
        before = was.get(key)
        if row == before:
            continue
        if mine.get(key) != before:
            raise MergeConflict(f"both folds changed a series of {name}")
        mine[key] = row
    return list(mine.values())


def _guard(
    base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any], cap: int
) -> dict[str, Any]:
    """Admitted values and fold counts: every label's admitted values
    together, if they fit under the cap; the refusals of both."""
    seen = {}
    for label in ours["seen"].keys() | theirs["seen"].keys():
        values = set(ours["seen"].get(label, ())) | set(theirs["seen"].get(label, ()))
        if len(values) > cap:
            raise MergeConflict(f"the two folds admitted more {label} values than its cap")
        seen[label] = sorted(values)
    was = base["folded"]
    folded = {
        label: ours["folded"].get(label, 0) + theirs["folded"].get(label, 0) - was.get(label, 0)
        for label in ours["folded"].keys() | theirs["folded"].keys()
    }
    return {"seen": seen, "folded": folded}


__all__ = ["MergeConflict", "merge"]
