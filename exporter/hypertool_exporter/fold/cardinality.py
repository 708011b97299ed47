"""Caps on distinct label values, so a bug or an attack cannot explode series.

Each guarded label (persona, model, ...) keeps the first ``cap`` distinct
values it sees; later new values fold into ``__other__`` and the fold counts
them, once per event that carries one, so the overflow is visible instead
of silent.
"""

from __future__ import annotations

from typing import Any

from ..model.catalog import GUARDED_LABELS, OVERFLOW_VALUE


class LabelGuard:
    """Admits label values up to a cap per label; counts what it folds."""

    def __init__(self, cap: int):
        self.cap = cap
        self.seen: dict[str, set[str]] = {label: set() for label in GUARDED_LABELS}
        self.folded: dict[str, int] = {}
        #: Values refused so far, all labels together: a fold plan built
        #: while this grew holds a refusal, and is not cached
        #: (``fold.handlers``), so that every event counts its own.
        self.refusals = 0

    def admit(self, label: str, value: str) -> str:
        """``value`` itself while the label is under its cap (or already knows it),
        else ``__other__``."""
        seen = self.seen[label]
        if value in seen:
            return value
        if len(seen) < self.cap:
            seen.add(value)
            return value
        self.folded[label] = self.folded.get(label, 0) + 1
        self.refusals += 1
        return OVERFLOW_VALUE

    def to_json(self) -> dict[Any, Any]:
        """Seen values and fold counts as JSON-ready data, for journal snapshots."""
        return {"seen": {k: sorted(v) for k, v in self.seen.items()}, "folded": self.folded}

    def load_json(self, data: dict[Any, Any]) -> None:
        """Restore what ``to_json`` wrote."""
        for label, values in data.get("seen", {}).items():
            if label in self.seen:
                self.seen[label] = set(values)
        self.folded = {k: int(v) for k, v in data.get("folded", {}).items()}


__all__ = ["LabelGuard"]
