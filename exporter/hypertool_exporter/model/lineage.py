"""One LLM call, one count: nested GenAI spans that describe the same call.

Frameworks wrap provider calls: a LangChain or agent span carrying the usage
of the OpenAI span under it, both GenAI spans. Counting both would double
the tokens, the cost and the calls. The rule: **of GenAI spans that are
ancestor and descendant in one trace, only the first to arrive counts**.
Exporters send a span when it ends, so children (which end first) usually
arrive first: the innermost span, the provider's own, is the one counted,
with the most precise usage. Siblings (two calls under one agent span) both
count. A span without GenAI content between them does not break the chain.

The memory of recent spans is bounded (``capacity`` spans of each kind, the
oldest forgotten first) and per exporter: a restart, or a parent arriving
after its child was forgotten, can count a pair twice.
"""

from __future__ import annotations

from .genai import SpanRecord

#: Spans remembered of each kind; a trace's spans arrive within minutes.
DEFAULT_CAPACITY = 100_000


class UsageLineage:
    """Decides which GenAI spans count, remembering where counted ones sit."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        #: Spans at or below a counted GenAI span (their GenAI descendants are its call).
        self._within: dict[tuple[str, str], None] = {}
        #: Spans with a counted GenAI descendant (their GenAI ancestors are its call).
        self._above: dict[tuple[str, str], None] = {}

    def _remember(self, table: dict[tuple[str, str], None], key: tuple[str, str]) -> None:
        table[key] = None
        if len(table) > self.capacity:
            del table[next(iter(table))]

    def admit(self, span: SpanRecord, genai: bool) -> bool:
        """Whether ``span``'s GenAI events count (always ``False`` when it has
        none); every span passes through, so chains through plain spans hold."""
        me = (span.trace_id, span.span_id)
        parent = (span.trace_id, span.parent_id) if span.parent_id else None
        below_counted = parent is not None and parent in self._within
        above_counted = me in self._above
        if above_counted and parent is not None:
            self._remember(self._above, parent)
        if below_counted:
            self._remember(self._within, me)
        if not genai:
            return False
        if below_counted or above_counted:
            self._remember(self._within, me)  # its later descendants are the same call
            return False
        self._remember(self._within, me)
        if parent is not None:
            self._remember(self._above, parent)
        return True


__all__ = ["DEFAULT_CAPACITY", "UsageLineage"]
