"""One LLM call, one count: nested GenAI spans that describe the same call.

Frameworks wrap provider calls: a LangChain or agent span carrying the usage
of the OpenAI span under it, both GenAI spans. Counting both would double
the tokens, the cost and the calls. The rule: **of GenAI spans that are
ancestor and descendant in one trace, exactly one counts**: the first to
arrive, and within one export the innermost (the one that ended first: a
span ends after its descendants). Exporters send a span when it ends, so
children usually arrive first and the provider's own span, with the most
precise usage, is the one counted. Siblings (two calls under one agent span)
both count.

Every span's link to its parent is remembered, plain spans too, so a chain
through spans without GenAI content holds in whatever order its spans come:
a request's links are all learnt before any of its spans is decided. One
order cannot be decided when it happens: two GenAI spans in separate exports,
both counted, joined later by a plain span between them that arrives last.
That span shows the double count; ``Decisions.joined`` says how many it
found, so it is counted where people can see it, never hidden.

**Across traces, one response id counts once.** Two libraries can trace one
call in traces of their own (the anthropic SDK traces its calls, and
OpenLLMetry traces them again). Both spans carry the provider's response id
(``gen_ai.response.id``): the first GenAI span with an id counts, and a
later one with the same id from another library (instrumentation scope)
stands for the same call, so neither it nor its ancestors count again. The
same library sending an id again is another call: a local server or a
gateway whose ids repeat must not make calls vanish.

Decisions are tentative until the caller's write succeeds (``commit``); a
write that fails leaves the memory as it was (``rollback``), so the retried
export is decided again and counted. The memory is bounded: ``capacity``
spans in two generations (the older dropped whole when the newer fills),
which costs O(1) a span however long the exporter runs, and remembers a
span at least while fewer than ``capacity`` spans came after it. A restart, or a
parent arriving after its child was forgotten, can count a pair twice.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from .genai import SpanIdentity

#: Spans remembered; a trace's spans arrive within minutes.
DEFAULT_CAPACITY = 100_000
#: Ancestors walked at most (a deeper chain, or a loop of bad ids, stops there).
MAX_DEPTH = 256

_Key = tuple[str, str]


class _Generations:
    """A bounded map in two generations: lookups see both, inserts go to the
    newer, and when it holds ``capacity`` keys the older is dropped whole."""

    __slots__ = ("capacity", "new", "old")

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.new: dict[_Key, str | None] = {}
        self.old: dict[_Key, str | None] = {}

    def __contains__(self, key: _Key) -> bool:
        return key in self.new or key in self.old

    def get(self, key: _Key) -> str | None:
        return self.new[key] if key in self.new else self.old.get(key)

    def __len__(self) -> int:
        return len(self.new) + len(self.old)

    def rotate(self) -> None:
        if len(self.new) >= self.capacity:
            self.old, self.new = self.new, {}


@dataclass(slots=True)
class Decisions:
    """A request's decisions, tentative until ``UsageLineage.commit``."""

    #: Per span of the request, in order: whether its GenAI events count.
    counts: list[bool]
    #: Counted spans found joined to another counted span by a span of this request.
    joined: int = 0
    #: (table, key) pairs this request added: undone by ``rollback``.
    added: list[tuple[dict[_Key, str | None], _Key]] = field(default_factory=list)


class UsageLineage:
    """Decides which GenAI spans count, remembering the traces' shape.

    ``decide`` and then ``commit`` or ``rollback`` are called one request at
    a time (the caller holds a lock around the three).
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        #: (trace, span) -> parent span id ("" for a root), of every span seen.
        self._parents = _Generations(capacity)
        #: Counted GenAI spans.
        self._counted = _Generations(capacity)
        #: Spans with a counted GenAI span below them.
        self._above = _Generations(capacity)
        #: What a span is to the calls below it (``genai_work.work_tag``):
        #: a workflow, a stage or an agent.
        self._work = _Generations(capacity)
        #: Response ids of calls counted, keyed ("", id): the instrumentation
        #: scope of the span that counted.
        self._responses = _Generations(capacity)

    def __len__(self) -> int:
        """Spans remembered (at most twice ``capacity``)."""
        return len(self._parents)

    def _add(self, table: _Generations, key: _Key, value: str | None, into: Decisions) -> None:
        if key not in table.new:
            table.new[key] = value
            into.added.append((table.new, key))

    def _ancestors(self, trace: str, parent: str | None) -> Iterator[tuple[str, str]]:
        """The known ancestors of a span whose parent is ``parent``, nearest first."""
        seen = 0
        while parent and seen < MAX_DEPTH:
            key = (trace, parent)
            yield key
            if key not in self._parents:
                return
            parent = self._parents.get(key)
            seen += 1

    def _mark_above(self, trace: str, parent: str | None, into: Decisions) -> int:
        """Mark the ancestors of a counted span; how many counted ones it met."""
        met = 0
        for key in self._ancestors(trace, parent):
            if key in self._counted:
                met += 1
            if key in self._above and key in self._parents:
                break  # its own ancestors were marked when it was
            self._add(self._above, key, None, into)
        return met

    def ancestry(self, trace: str, parent: str | None) -> tuple[list[str], bool]:
        """The work tags of a span's known ancestors, nearest first, and
        whether they are all known: the chain reached its root (it stops
        where an ancestor has not arrived yet)."""
        work, parents = self._work, self._parents
        tags, complete = [], not parent
        for key in self._ancestors(trace, parent):
            tag = work.get(key)
            if tag is not None:
                tags.append(tag)
            if key not in parents:
                break
            if not parents.get(key):  # the root
                complete = True
        return tags, complete

    def decide(
        self,
        spans: Sequence[SpanIdentity],
        genai: Sequence[bool],
        tags: Sequence[str | None] = (),
        responses: Sequence[str | None] = (),
    ) -> Decisions:
        """Whether each span's GenAI events count (never for one without).

        All of the request's links are learnt first, then its GenAI spans are
        decided in the order they ended, so every order within one request
        counts one span per chain. ``responses``: each span's response id,
        when it names one (one id counts once, whatever the trace).
        """
        decisions = Decisions([False] * len(spans))
        for index, span in enumerate(spans):
            key = (span.trace_id, span.span_id)
            if key not in self._parents:
                self._add(self._parents, key, span.parent_id or "", decisions)
            tag = tags[index] if tags else None
            if tag is not None and key not in self._work:
                self._add(self._work, key, tag, decisions)
        order = sorted(range(len(spans)), key=lambda i: spans[i].end_ns)
        for index in order:
            span = spans[index]
            key = (span.trace_id, span.span_id)
            if key in self._counted:  # sent again: the journal knows its events
                decisions.counts[index] = True
            elif key in self._above:  # a counted span below: so are its ancestors
                decisions.joined += self._mark_above(span.trace_id, span.parent_id, decisions)
            elif genai[index] and not any(
                k in self._counted for k in self._ancestors(span.trace_id, span.parent_id)
            ):
                response = responses[index] if responses else None
                seen = False
                if response is not None:
                    # The scope that counted it: the same library sending the id
                    # again is another call (a server whose ids repeat).
                    counted_by = self._responses.get(("", response))
                    seen = counted_by is not None and counted_by != span.scope
                    if counted_by is None:
                        self._add(self._responses, ("", response), span.scope, decisions)
                if not seen:
                    self._add(self._counted, key, None, decisions)
                    decisions.counts[index] = True
                # (a call counted in another trace: its ancestors here count it too)
                self._mark_above(span.trace_id, span.parent_id, decisions)
        return decisions

    def commit(self, decisions: Decisions) -> None:
        """Keep what ``decide`` learnt: the request's events were written."""
        decisions.added.clear()
        for table in (self._parents, self._counted, self._above, self._work, self._responses):
            table.rotate()

    def rollback(self, decisions: Decisions) -> None:
        """Forget what ``decide`` learnt: the write failed and will be retried."""
        for table, key in reversed(decisions.added):
            table.pop(key, None)
        decisions.added.clear()


__all__ = ["DEFAULT_CAPACITY", "Decisions", "UsageLineage"]
