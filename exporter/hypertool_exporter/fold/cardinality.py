"""Caps on distinct label values, so a bug or an attack cannot explode series.

Each guarded label kind (persona, model, ...) keeps the first ``cap``
distinct values it sees; later new values fold into ``__other__`` and the
fold counts them, so the overflow is visible instead of silent.
"""

from __future__ import annotations

from ..model import catalog as c
from ..model.catalog import OVERFLOW_VALUE

GUARDED_KINDS = c.LABEL_VALUES_FOLDED.closed_values["label"]


class LabelGuard:
    """Admits label values up to a cap per kind; counts what it folds."""

    def __init__(self, cap: int):
        self.cap = cap
        self.seen: dict[str, set[str]] = {kind: set() for kind in GUARDED_KINDS}
        self.folded: dict[str, int] = {}

    def admit(self, kind: str, value: str) -> str:
        seen = self.seen[kind]
        if value in seen:
            return value
        if len(seen) < self.cap:
            seen.add(value)
            return value
        self.folded[kind] = self.folded.get(kind, 0) + 1
        return OVERFLOW_VALUE

    def to_json(self) -> dict:
        return {"seen": {k: sorted(v) for k, v in self.seen.items()}, "folded": self.folded}

    def load_json(self, data: dict) -> None:
        for kind, values in data.get("seen", {}).items():
            if kind in self.seen:
                self.seen[kind] = set(values)
        self.folded = {k: int(v) for k, v in data.get("folded", {}).items()}
