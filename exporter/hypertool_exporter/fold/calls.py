"""LLM calls: their requests, errors and latency, and the GenAI duration.

A call's series are found once per label values (a plan: the (persona,
model) key, its duration histogram, its GenAI duration histogram). A
journalled collector's calls whose label values were seen, without a trace
id or a first chunk's time, wait in runs (``model.runs``: the label set,
then seconds and time a record), folded here a run at a time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..model import catalog as c
from ..model.events import LLMCallFinished
from .histogram import Histogram, histogram_of

if TYPE_CHECKING:
    from .cardinality import LabelGuard
    from .genai import GenAIFold
    from .series import Series

_CALLED = (LLMCallFinished.TYPE,)
_REQUESTS, _CALLS = c.LLM_REQUESTS.name, c.LLM_DURATION.name
_ERRORS, _UNKNOWN = c.LLM_ERRORS.name, c.LLM_USAGE_UNKNOWN.name
#: A call plan: the (persona, model) key, its duration histogram, and its
#: GenAI duration histogram (``None`` when those metrics are off).
CallPlan = tuple[tuple[str, str], Histogram, Histogram | None]


class CallFold:
    """The fold of ``LLMCallFinished`` events into ``series`` (under the
    state's lock), for ``fold.handlers.Handlers``."""

    def __init__(
        self,
        series: Series,
        guard: LabelGuard,
        genai: GenAIFold | None,
        cacheable: Callable[[int, dict[Any, Any]], bool],
    ):
        self.series = series
        self.guard = guard
        self.genai = genai
        #: Whether a plan may be cached (``Handlers._cacheable``: the one rule).
        self._cacheable = cacheable
        self.clear_plans()

    def clear_plans(self) -> None:
        """Forget the plans, and bind the series afresh (``Handlers.clear_plans``)."""
        counters = self.series.counters
        #: Plans by (persona, model, operation, provider, error type), as recorded.
        self._plans: dict[tuple[Any, ...], CallPlan] = {}
        self._requests, self._errors = counters[_REQUESTS], counters[_ERRORS]
        self._applied = counters[c.EVENTS_APPLIED.name]

    def _plan(self, ev: LLMCallFinished, labels: tuple[Any, ...]) -> CallPlan:
        """The series a call with ``ev``'s ``labels`` touches, found once."""
        admit, refusals = self.guard.admit, self.guard.refusals
        key = (admit("persona", ev.persona), admit("model", ev.model))
        duration = histogram_of(self.series.histograms[_CALLS], key)
        genai = None if self.genai is None else self.genai.duration_histogram(ev, key[1], key[0])
        plan = (key, duration, genai)
        if self._cacheable(refusals, self._plans):
            self._plans[labels] = plan
        return plan

    def llm_call_finished(self, ev: LLMCallFinished) -> None:
        # fmt: off
        (persona, model, seconds, error_type, ts, trace_id, usage_unknown, operation, provider,
         ttft) = ev
        # fmt: on
        labels = (persona, model, operation, provider, error_type)
        key, duration, genai = self._plans.get(labels) or self._plan(ev, labels)
        index = duration.observe(seconds)
        requests = self._requests
        requests[key] = requests.get(key, 0.0) + 1.0
        if trace_id is not None:
            exemplars = self.series.exemplars
            exemplars[(_CALLS, key, index)] = (trace_id, seconds, ts)
            exemplars[(_REQUESTS, key, -1)] = (trace_id, 1.0, ts)
        if usage_unknown:
            self.series.inc(_UNKNOWN, key)
        errors = self._errors  # 0: the series exists from the first call
        errors[key] = errors.get(key, 0.0) + (0.0 if error_type is None else 1.0)
        if genai is not None:
            genai.observe(seconds)
            if ttft is not None and self.genai is not None:
                self.genai.first_chunk(ev, key[1], key[0])
        applied = self._applied
        applied[_CALLED] = applied.get(_CALLED, 0.0) + 1.0

    def call_run(self, labels: tuple[Any, ...], run: list[float]) -> bool:
        """``llm_call_finished`` for each record of a run (``model.runs``: no
        trace id or first chunk), in one go, by the plan cached for its
        labels; False, having folded nothing, when none is (``Handlers.by_run``)."""
        _, persona, model, error_type, operation, provider, usage_unknown = labels
        plan = self._plans.get((persona, model, operation, provider, error_type))
        if plan is None:
            return False
        key, duration, genai = plan
        seconds = run[::2]
        calls = len(seconds)
        duration.observe_each(seconds)
        requests, errors = self._requests, self._errors
        requests[key] = requests.get(key, 0.0) + calls  # whole numbers: as exact as 1.0 each
        if usage_unknown:
            self.series.inc(_UNKNOWN, key, calls)
        errors[key] = errors.get(key, 0.0) + (0 if error_type is None else calls)
        if genai is not None:
            genai.observe_each(seconds)
        applied = self._applied
        applied[_CALLED] = applied.get(_CALLED, 0.0) + calls
        return True


__all__ = ["CallFold", "CallPlan"]
