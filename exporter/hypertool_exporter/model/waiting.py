"""Calls waiting for the workflow they were made in.

Over OTLP a span is sent when it ends, and a parent ends after its
children: a call's workflow and stage spans usually arrive after the call.
The call is counted at once for its persona (budgets stay live) and waits
here, bounded, for its ancestors. When they arrive, ``settle`` gives a
``WorkflowCharged`` event that adds the call's tokens and cost to the
workflow and stage. The rule for a root that never comes: a call waits at
most ``wait_seconds``, and ``capacity`` calls at most (the oldest go
first); then it stays its persona's alone. A call whose ancestry turns out
to hold no workflow stops waiting. Waiting calls are kept in memory: a
restart forgets them (their persona's figures are in the journal already).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from .events import TokensUsed
from .genai_work import context
from .lineage import UsageLineage
from .work import WorkflowCharged

#: How long a call waits for its workflow span, and how many calls wait.
DEFAULT_WAIT_SECONDS = 3600.0
DEFAULT_CAPACITY = 20_000


@dataclass(slots=True)
class Waiting:
    """A counted call whose ancestors have not all arrived."""

    parent: str | None
    tokens: TokensUsed
    since: float


class WaitingCalls:
    """Calls waiting for their workflow, oldest first; used under the span
    ingest's lock, one request at a time."""

    def __init__(
        self, wait_seconds: float = DEFAULT_WAIT_SECONDS, capacity: int = DEFAULT_CAPACITY
    ):
        self.wait_seconds = wait_seconds
        self.capacity = capacity
        self._calls: OrderedDict[tuple[str, str], Waiting] = OrderedDict()
        self._by_trace: dict[str, set[str]] = {}
        #: Calls that stopped waiting unanswered: past the wait or the capacity.
        self.given_up = 0

    def __len__(self) -> int:
        return len(self._calls)

    def add(
        self, trace: str, span: str, parent: str | None, tokens: TokensUsed, now: float
    ) -> None:
        """``tokens`` (already counted) waits for its ancestors."""
        key = (trace, span)
        if key in self._calls:
            return
        while len(self._calls) >= self.capacity:
            self._drop(*self._calls.popitem(last=False)[0], gave_up=True)
        self._calls[key] = Waiting(parent, tokens, now)
        self._by_trace.setdefault(trace, set()).add(span)

    def _drop(self, trace: str, span: str, *, gave_up: bool) -> None:
        spans = self._by_trace.get(trace)
        if spans is not None:
            spans.discard(span)
            if not spans:
                del self._by_trace[trace]
        if gave_up:
            self.given_up += 1

    def expire(self, now: float) -> None:
        """Give up on the calls that waited longer than ``wait_seconds``."""
        calls = self._calls
        while calls:
            key, oldest = next(iter(calls.items()))
            if now - oldest.since < self.wait_seconds:
                break
            calls.popitem(last=False)
            self._drop(*key, gave_up=True)

    def settle(
        self, lineage: UsageLineage, traces: set[str]
    ) -> tuple[list[tuple[str, WorkflowCharged]], list[tuple[str, str]]]:
        """For the waiting calls of ``traces`` (a request's), with what the
        lineage knows now: the charges (keyed like every span event, so a
        retried request charges once) of those whose workflow arrived, and
        every call that stops waiting (charged, or in no workflow after all).
        ``remove`` them once the charges are written."""
        charges: list[tuple[str, WorkflowCharged]] = []
        done: list[tuple[str, str]] = []
        for trace in traces & self._by_trace.keys():
            for span in sorted(self._by_trace[trace]):
                call = self._calls[(trace, span)]
                tags, complete = lineage.ancestry(trace, call.parent)
                workflow, stage, _agent = context(tags)
                if workflow is not None:
                    t = call.tokens
                    raw = {
                        "workflow": workflow,
                        "stage": stage,
                        "model": t.model,
                        "input_tokens": t.input_tokens,
                        "output_tokens": t.output_tokens,
                        "ts": t.ts,
                        "cache_read_tokens": t.cache_read_tokens,
                        "cache_write_tokens": t.cache_write_tokens,
                        "reasoning_tokens": t.reasoning_tokens,
                        "cost_usd": t.cost_usd,
                        "trace_id": t.trace_id,
                        "cost_estimate_usd": t.cost_estimate_usd,
                    }
                    key = f"span:{trace}{span}/WorkflowCharged"
                    charges.append((key, WorkflowCharged.parse(raw)))
                    done.append((trace, span))
                elif complete:
                    done.append((trace, span))
        return charges, done

    def remove(self, done: list[tuple[str, str]]) -> None:
        """Stop waiting for ``done`` (their charges are written)."""
        for key in done:
            if self._calls.pop(key, None) is not None:
                self._drop(*key, gave_up=False)


__all__ = ["DEFAULT_CAPACITY", "DEFAULT_WAIT_SECONDS", "Waiting", "WaitingCalls"]
