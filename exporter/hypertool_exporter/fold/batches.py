"""Token records folded a label set at a time.

``record_token_usage`` (in process, no journal) extends its label set's
``TokenBatch`` by ``(input tokens, output tokens, time)``, a flat list of
threes (one atomic ``extend``; each column is then one C-level slice); a
scrape, a snapshot, or a batch reaching ``BATCH_RECORDS`` folds it. The
journal's door, ``MetricState.apply_all``, puts a plain token event (no
trace id, token parts, reported cost, operation or provider) in the same
batches once its label set's first has been folded (``_join_batch``). A
label set's first record is folded as a ``TokensUsed`` event (which finds
its plan, its price and its histograms); after that a batch's records are
added up: the token sums into the counters, the cost as the rates times the
sums, one budget charge, the GenAI histograms' bucket counts from one sort.

Why it gives exactly the state of folding every record as an event, in any
order: token counts, bucket counts and histogram sums of whole numbers are
integers; dollars are whole femto-dollars (``model.money``), and a cost is
linear in the tokens while one price holds (a tiered price: while no
request passes its first threshold); a budget period's usage is the sum of
the charges stamped in it (one older than every kept period is dropped). A
batch that a price change or a budget period divides is split there
(``_fold_split``: the first record of each part as an event, which resolves
the price and moves the period on, then the rest added up); a batch with a
request past a tiered price's threshold is folded record by record. The
split only chooses the parts: each is checked again before it is added up.
And the records may be folded after events that came later: they touch
nothing other event classes touch (sessions, stages, calls), their label
values were admitted when their label set's first record was folded, and
none carries an exemplar (a record inside a trace, or an event with a
trace id, is folded at once).
"""

from __future__ import annotations

import bisect
import itertools
from typing import TYPE_CHECKING, Any, cast

from ..model import catalog as c
from ..model.events import (
    PLAIN_TOKENS_TAIL,
    TOKENS_OPTIONAL_FROM,
    TokensUsed,
)
from ..model.runs import (
    PLAIN_LABELS,
    record_event,
    records_of,
    run_class,
    run_record_event,
    width_of,
)
from .plans import count_tokens

if TYPE_CHECKING:
    import threading
    from collections.abc import Iterable

    from .handlers import Handlers
    from .histogram import Histogram
    from .plans import TokenPlan

#: Records a batch holds before its producer folds it (bounds memory between scrapes).
BATCH_RECORDS = 256
#: A full batch's length (three items a record).
BATCH_LENGTH = 3 * BATCH_RECORDS
#: Label sets with a batch; past this, records take the event path.
MAX_BATCHES = 2_000

_USED = (TokensUsed.TYPE,)
_NEVER = float("inf")
_TOKENS, _COST = c.PERSONA_TOKENS.name, c.PERSONA_COST.name
_UNPRICED, _APPLIED = c.PERSONA_UNPRICED_TOKENS.name, c.EVENTS_APPLIED.name


class TokenBatch(list[float]):
    """One label set's records waiting for the fold: input, output, time, input,
    output, time, ... (the token counts are whole numbers)."""

    __slots__ = ("key", "labels")

    def __init__(self, labels: tuple[str, str, str]):
        super().__init__()
        #: (persona, chat mode, model), validated.
        self.labels = labels
        #: The key of the label set's token plan (no operation, no provider).
        self.key = (*labels, None, None)


class TokenBatches:
    """The batch door of ``fold.state.MetricState``: the batches of records
    per label set, and their fold through ``handlers`` (whose plans, prices
    and series a batch's sums go to)."""

    def __init__(self, handlers: Handlers, lock: threading.Lock):
        self.handlers = handlers
        #: The state's lock: batches fold under it.
        self.lock = lock
        #: (persona, chat mode, model) -> its records waiting for the fold. A
        #: list extend is atomic, so producers need no lock.
        self._batches: dict[tuple[str, str, str], TokenBatch] = {}

    def __len__(self) -> int:
        """Label sets with a batch."""
        return len(self._batches)

    def waiting(self) -> int:
        """Records waiting in all the batches."""
        return sum(map(len, self._batches.values())) // 3

    def pending(self) -> bool:
        """Whether any batch holds records."""
        return any(self._batches.values())

    def batch_for(self, labels: tuple[str, str, str]) -> TokenBatch | None:
        """The batch of records with validated ``labels`` (``None`` past
        ``MAX_BATCHES`` label sets: those records are events)."""
        with self.lock:
            batch = self._batches.get(labels)
            return batch if batch is not None else self._new_batch(labels)

    def _new_batch(self, labels: tuple[str, str, str]) -> TokenBatch | None:
        """A batch for ``labels`` (under the lock; ``None`` past ``MAX_BATCHES``)."""
        if len(self._batches) >= MAX_BATCHES:
            return None
        batch = self._batches[labels] = TokenBatch(labels)
        return batch

    def clear(self) -> None:
        """Drop every waiting record (under the lock: a restore replaces them)."""
        for batch in self._batches.values():
            batch.clear()

    def join(self, ev: TokensUsed) -> None:
        """``Handlers.tokens_used`` for ``apply_all`` (the journal's door): a plain event
        (no trace id, token parts, reported cost, operation or provider) of a
        label set folded once before joins its batch, folded when full or by
        the next drain, as the hot path's records are; the first of a label
        set, and any other event, is folded now, in its place, so that label
        values are admitted in the journal's order."""
        if ev[TOKENS_OPTIONAL_FROM:] == PLAIN_TOKENS_TAIL:
            labels = (ev[0], ev[4], ev[1])
            batch = self._batches.get(labels)
            if batch is not None:
                batch += (ev[2], ev[3], ev[5])
                if len(batch) >= BATCH_LENGTH:
                    self._fold((batch,))
                return
            self.handlers.tokens_used(ev)
            self._new_batch(labels)
            return
        self.handlers.tokens_used(ev)

    def join_run(self, labels: tuple[Any, ...], run: list[Any]) -> None:
        """``join`` for each plain token record of ``run`` (of ``labels``:
        ``model.runs``), in one go: a label set's first record
        folded now, as an event, the rest added to its batch. A run of
        records with usage options, or of another event class, is folded now
        by its class's fold (``_join_by_plan``)."""
        if type(labels[0]) is not str or len(labels) != PLAIN_LABELS:
            self._join_by_plan(labels, run)
            return
        batch = self._batches.get(labels)
        if batch is None:
            records = records_of(run)
            self.handlers.tokens_used(record_event(labels, *next(records)))
            batch = self._new_batch(labels)
            if batch is None:  # past MAX_BATCHES: each record an event
                for record in records:
                    self.handlers.tokens_used(record_event(labels, *record))
                return
            run = run[3:]
        batch += run
        if len(batch) >= BATCH_LENGTH:
            self._fold((batch,))

    def _join_by_plan(self, labels: tuple[Any, ...], run: list[Any]) -> None:
        """Fold a run by its class's fold (``Handlers.by_run``), which folds
        by a cached plan only; else its first record as its event (which
        plans it), then the rest, or each as its event while none will do."""
        cls = run_class(labels)
        fold_run, fold_event = self.handlers.by_run[cls], self.handlers.by_type[cls]
        if fold_run(labels, run):
            return
        width = width_of(labels)
        fold_event(run_record_event(labels, tuple(run[:width])))
        rest = run[width:]
        if rest and not fold_run(labels, rest):
            for start in range(0, len(rest), width):
                fold_event(run_record_event(labels, tuple(rest[start : start + width])))

    def fold_batch(self, batch: TokenBatch) -> None:
        """Fold ``batch`` now (its producer's call when it is full)."""
        with self.lock:
            self._fold((batch,))

    def fold_all(self) -> None:
        """Fold every batch (under the lock)."""
        self._fold(self._batches.values())

    def _fold(self, batches: Iterable[TokenBatch], split: bool = True) -> None:
        """Fold ``batches`` (under the lock). The GenAI token histograms have
        no chat mode label, so the batches of one persona's chat modes share
        their series: each is observed once, with all their values. One loop,
        its dicts bound once: a scrape folds every label set's batch. A batch
        that a price change or a budget period divides is split at it
        (``split``; its parts are folded with ``split=False``)."""
        handlers = self.handlers
        plans, charged_until = handlers.token_plans, handlers.budgets.charged_until
        genai, series = handlers.genai, handlers.series
        counters = series.counters
        tokens = counters[_TOKENS]
        observed: dict[Histogram, list[int]] = {}
        summed = 0  # records added up, for the applied counter
        for batch in batches:
            # Take what is there; records added meanwhile (another thread) stay.
            count = len(batch)
            if not count:
                continue
            plan = plans.get(batch.key)
            if plan is None or (genai is not None and not plan.histograms):
                # The label set's first records: folding one finds its plan and histograms.
                first_in, first_out, first_ts = batch[:3]
                self.handlers.tokens_used(
                    record_event(batch.labels, int(first_in), int(first_out), first_ts)
                )
                del batch[:3]
                count -= 3
                plan = plans.get(batch.key)
                if not count:
                    continue
            # The token columns hold whole numbers (the producers check them).
            inputs = cast("list[int]", batch[0:count:3])
            outputs = cast("list[int]", batch[1:count:3])
            stamps = batch[2:count:3]
            del batch[:count]
            if plan is None:  # more label sets than plans are cached for
                self._fold_each(batch.labels, inputs, outputs, stamps)
                continue
            ordered = sorted(stamps)  # a C-level sort of floats beats min and max
            first, last = ordered[0], ordered[-1]
            window = plan.window
            if not window.valid_from <= first < window.valid_until:
                handlers.resolve_price(window, batch.labels[2], first)
            rates = window.rates
            if (
                rates is None
                and (cliff := window.cliff) is not None
                and max(inputs) <= cliff.threshold
            ):
                rates = cliff.rates  # a tiered price, no request past its first threshold
            if rates is None and window.price is not None:  # tiered, a request past a threshold
                self._fold_each(batch.labels, inputs, outputs, stamps)
                continue
            usage, until = charged_until(plan.persona, first) if plan.budgeted else (None, _NEVER)
            if last >= until or last >= window.valid_until:  # a budget period or a price change
                if split:
                    self._fold_split(batch.labels, plan, inputs, outputs, stamps)
                else:
                    self._fold_each(batch.labels, inputs, outputs, stamps)
                continue
            # What ``_tokens_used`` does for each record, added up.
            total_in, total_out = sum(inputs), sum(outputs)
            count_tokens(tokens, plan.series, total_in, total_out)
            if rates is not None:
                cost = rates.cost(total_in, total_out)
            else:
                cost = 0
                unpriced = counters[_UNPRICED]
                key = plan.unpriced_key
                unpriced[key] = unpriced.get(key, 0.0) + total_in + total_out
            series.add_money(_COST, plan.cost_key, cost)
            if usage is not None:  # the period holds them all: one charge
                usage.add(total_in + total_out, cost)
            summed += len(inputs)
            if plan.histograms:
                observed.setdefault(plan.histograms[0], []).extend(inputs)
                observed.setdefault(plan.histograms[1], []).extend(outputs)
        if summed:
            applied = counters[_APPLIED]
            applied[_USED] = applied.get(_USED, 0.0) + summed
        for histogram, values in observed.items():
            histogram.observe_all(values)

    def _fold_split(
        self,
        labels: tuple[str, str, str],
        plan: TokenPlan,
        inputs: list[int],
        outputs: list[int],
        stamps: list[float],
    ) -> None:
        """Fold records that a price change or a budget period divides: in
        time order, the first of a run as an event (it resolves the price for
        its time and moves the budget's period on), then the records up to the
        end of that price's window and that period as one batch."""
        order = sorted(range(len(stamps)), key=stamps.__getitem__)
        times = [stamps[i] for i in order]
        inputs, outputs = [inputs[i] for i in order], [outputs[i] for i in order]
        start, count = 0, len(times)
        while start < count:
            self.handlers.tokens_used(
                record_event(labels, inputs[start], outputs[start], times[start])
            )
            ends = plan.window.valid_until
            if plan.budgeted:  # and the end of the record's budget period
                ends = min(ends, self.handlers.budgets.charged_until(plan.persona, times[start])[1])
            stop = bisect.bisect_left(times, ends, start + 1)
            if stop > start + 1:
                run, part = TokenBatch(labels), slice(start + 1, stop)
                run += itertools.chain.from_iterable(
                    zip(inputs[part], outputs[part], times[part], strict=True)
                )
                self._fold((run,), split=False)
            start = stop

    def _fold_each(
        self,
        labels: tuple[str, str, str],
        inputs: list[int],
        outputs: list[int],
        stamps: list[float],
    ) -> None:
        """Fold records one by one, as the events they stand for."""
        for record in zip(inputs, outputs, stamps, strict=True):
            self.handlers.tokens_used(record_event(labels, *record))


__all__ = [
    "BATCH_LENGTH",
    "BATCH_RECORDS",
    "MAX_BATCHES",
    "TokenBatch",
    "TokenBatches",
]
