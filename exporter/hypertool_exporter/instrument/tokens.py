"""The token hot path of the in-process API: ``record_token_usage``.

A call whose label values were seen before, with whole token counts in range
and no options, extends its label set's batch (``fold.batches``) and returns;
everything else (options, new label values, values to check and name when
wrong, records while tracing is on) takes the full path, which validates
the record into a ``TokensUsed`` event. Its own module because the collector
it belongs to is long, and because this is the one place where speed shaped
the signature: the options are ``**options`` (see ``record_token_usage``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from ..fold.batches import BATCH_LENGTH
from ..model.events import TokensUsed
from ..model.fields import MAX_TOKENS, EventError
from ..model.label_forms import MAX_CACHED_LABELS, LabelForms, plain_counts, plain_dollars
from ..model.runs import record_event, run_record_event
from ..model.wire import key_value
from .recording import Recording
from .tracing import current_stage

tracing_stage = current_stage.get

if TYPE_CHECKING:
    from ..fold.batches import TokenBatch
    from ..fold.state import MetricState
    from ..journal.writer import JournalWriter


class TokenUsageOptions(TypedDict, total=False):
    """The keyword-only options of ``PersonaMetricsCollector.record_token_usage``;
    one left out means none (no tokens, no cost, no trace id, ...)."""

    trace_id: str | None
    cache_read_tokens: int
    cache_write_tokens: int
    reasoning_tokens: int
    cost_usd: float | None
    provider: str | None
    operation: str | None
    reservation_id: str | None
    workflow: str | None
    stage: str | None


#: Their names (the seed API's ``tokens=`` is a parameter of its own: its
#: call then builds no dict of options).
TOKEN_USAGE_OPTIONS = TokenUsageOptions.__optional_keys__
#: The options a record of a run may have (``model.runs``): not
#: the seed's ``tokens=``, a trace id, a reservation or a workflow stage.
RUN_OPTIONS = frozenset(
    {
        "cache_read_tokens",
        "cache_write_tokens",
        "reasoning_tokens",
        "cost_usd",
        "provider",
        "operation",
    }
)


class TokenRecording(Recording):
    """``record_token_usage`` and its full path, for ``PersonaMetricsCollector``."""

    state: MetricState
    _writer: JournalWriter | None
    _token_batches: dict[tuple[Any, ...], TokenBatch]
    #: Journalled: raw label values seen before -> their validated form.
    _journal_labels: LabelForms

    def record_token_usage(
        self,
        persona: str,
        chatmode: str,
        model: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        *,
        tokens: int | None = None,
        **options: Unpack[TokenUsageOptions],
    ) -> None:
        """Record token usage. ``input_tokens`` counts every prompt token, the
        cache reads and writes included; ``output_tokens`` every completion
        token, reasoning included. ``tokens=`` is the seed API's single count,
        taken as input. The other keyword-only ``options`` are
        ``TokenUsageOptions``: ``trace_id`` (default: the current span's, when tracing is
        on; the samples' exemplar, never a label), ``cache_read_tokens``,
        ``cache_write_tokens``, ``reasoning_tokens``, ``cost_usd`` (the
        provider's reported cost, used instead of an estimate), ``provider``,
        ``operation``, ``reservation_id`` (the budget reservation this
        usage uses, released when it is journalled: ``reserve_budget``), and
        ``workflow`` and ``stage`` (default: the ``WorkflowTracer`` stage
        running, if any: the call's cost and tokens are charged to it).

        The hot path of the library: labels seen before are not validated
        again, and the record is added to its label set's batch, folded at
        the next scrape or snapshot (or when the batch is full) with the
        batch's other records (``fold.batches``). A record inside a trace is
        folded now, as an event, for its exemplar. The options come as
        ``**options`` because Python fills every keyword-only parameter left
        out of a call by a lookup of its default: a call without options
        takes a fifth less time so.
        """
        if tokens is not None:
            if options or input_tokens or output_tokens:  # the full path says what is wrong
                self._checked(
                    persona, chatmode, model, input_tokens, output_tokens, options, tokens
                )
                return
            input_tokens = tokens  # the seed API's count: a plain record's input
        elif options and self._recorded_in_run(
            persona, chatmode, model, input_tokens, output_tokens, options
        ):
            return
        key = (persona, chatmode, model)
        try:
            batch = self._token_batches.get(key)
        except TypeError:  # an unhashable value: the full path names it (``label_forms``)
            self._checked(persona, chatmode, model, input_tokens, output_tokens, options)
            return
        if batch is None and not options:  # journalled: its labels' validated form, if seen
            head = self._journal_labels.get(key)
            if (
                head is not None
                and type(input_tokens) is int
                and type(output_tokens) is int
                and 0 <= input_tokens <= MAX_TOKENS
                and 0 <= output_tokens <= MAX_TOKENS
                and self._tracing.provider is None
                and not self._tracing.stages_open
            ):
                self._journal_add(head, (input_tokens, output_tokens, self._clock()))
                return
        if (
            options
            or batch is None
            or type(input_tokens) is not int
            or type(output_tokens) is not int
            or not 0 <= input_tokens <= MAX_TOKENS
            or not 0 <= output_tokens <= MAX_TOKENS
            or self._tracing.provider is not None
            or self._tracing.stages_open
        ):
            self._checked(persona, chatmode, model, input_tokens, output_tokens, options)
            return
        batch += (input_tokens, output_tokens, self._clock())  # one C-level extend: atomic
        if len(batch) >= BATCH_LENGTH:
            self.state.batches.fold_batch(batch)

    def _checked(
        self,
        persona: str,
        chatmode: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        options: TokenUsageOptions,
        tokens: int | None = None,
    ) -> None:
        """The full path, after a keyword that is not an option is refused as
        Python refuses one (naming this method's caller)."""
        if not TOKEN_USAGE_OPTIONS.issuperset(options):
            unexpected = min(options.keys() - TOKEN_USAGE_OPTIONS)
            raise TypeError(
                f"record_token_usage() got an unexpected keyword argument {unexpected!r}"
            )
        self._record_token_usage(
            persona, chatmode, model, input_tokens, output_tokens, tokens=tokens, **options
        )

    def _recorded_in_run(
        self,
        persona: str,
        chatmode: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        options: TokenUsageOptions,
    ) -> bool:
        """Record a call whose options are among ``RUN_OPTIONS`` (the others
        absent or None, as ``record_llm_call`` passes them) and whose label
        values (its operation and provider among them) were seen before as a
        record of its label set's run (``_journal_add``), built from their
        validated form (``label_forms``) with its numbers checked as they
        are; False, having recorded nothing, for any other (the full path
        then validates it, and names a keyword that is not an option). Not
        while tracing is on or a ``WorkflowTracer`` stage is open: those
        records carry a trace id or a stage."""
        tracing = self._tracing
        if tracing.provider is not None or tracing.stages_open:
            return False
        if not options.keys() <= RUN_OPTIONS:  # the others must be options, and None
            others = options.keys() - RUN_OPTIONS
            if not others <= TOKEN_USAGE_OPTIONS:
                return False
            for name in others:
                if options[name] is not None:  # type: ignore[literal-required]  # an option
                    return False
        get = options.get
        form = self._label_forms.seen(
            (TokensUsed, persona, chatmode, model, get("operation"), get("provider"))
        )
        cache_read, cache_write = get("cache_read_tokens", 0), get("cache_write_tokens", 0)
        reasoning, cost = get("reasoning_tokens", 0), get("cost_usd")
        if (
            form is None
            or not plain_dollars(cost)
            or not plain_counts(input_tokens, output_tokens, cache_read, cache_write, reasoning)
        ):
            return False
        ts = self._clock()
        self._journal_add(
            form, (input_tokens, output_tokens, cache_read, cache_write, reasoning, cost, ts)
        )
        return True

    def _record_run(self, labels: tuple[Any, ...], record: tuple[Any, ...]) -> None:
        """Record a record of a run as its event (no journal, or a journal
        level that commits each)."""
        self.record(run_record_event(labels, record))

    def _record_token_usage(
        self,
        persona: str,
        chatmode: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        *,
        tokens: int | None = None,
        trace_id: str | None = None,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        reasoning_tokens: int = 0,
        cost_usd: float | None = None,
        provider: str | None = None,
        operation: str | None = None,
        reservation_id: str | None = None,
        workflow: str | None = None,
        stage: str | None = None,
    ) -> None:
        """``record_token_usage`` for what its fast path leaves: options, label
        values not seen before, values to check (and to name when wrong), and
        records while tracing is on."""
        if tokens is not None:
            if input_tokens or output_tokens:
                raise EventError("tokens", tokens, "give tokens= or input_tokens/output_tokens")
            input_tokens = tokens
        if workflow is None and stage is None and self._tracing.stages_open:
            workflow, stage = tracing_stage() or (None, None)
        try:
            batch = self._token_batches.get((persona, chatmode, model))
        except TypeError:  # an unhashable value: ``TokensUsed.parse`` names it
            batch = None
        if (
            batch is None
            or cache_read_tokens
            or cache_write_tokens
            or reasoning_tokens
            or cost_usd is not None
            or provider is not None
            or operation is not None
            or reservation_id is not None
            or workflow is not None
            or stage is not None
            or type(input_tokens) is not int
            or type(output_tokens) is not int
            or not 0 <= input_tokens <= MAX_TOKENS
            or not 0 <= output_tokens <= MAX_TOKENS
        ):
            raw = {
                "persona": persona,
                "chatmode": chatmode,
                "model": model,
                "input_tokens": input_tokens,
                "output_tokens": output_tokens,
                "cache_read_tokens": cache_read_tokens,
                "cache_write_tokens": cache_write_tokens,
                "reasoning_tokens": reasoning_tokens,
                "cost_usd": cost_usd,
                "provider": provider,
                "operation": operation,
                "workflow": workflow,
                "stage": stage,
                "ts": self._clock(),
                "trace_id": self._parsed(lambda: self._trace(trace_id)),
            }
            event = self._parsed(lambda: TokensUsed.parse(raw))
            release = self._parsed(lambda: key_value("reservation_id", reservation_id))
            self.record(event, release=release)
            if workflow is None and stage is None:  # its next records may be a run's
                self._label_forms.remember(
                    (TokensUsed, persona, chatmode, model, operation, provider),
                    (event.persona, event.chatmode, event.model, event.operation, event.provider),
                )
            if self._writer is None and len(self._token_batches) < MAX_CACHED_LABELS:
                found = self.state.batches.batch_for((event.persona, event.chatmode, event.model))
                if found is not None:
                    self._token_batches[(persona, chatmode, model)] = found
            elif self._writer is not None:
                self._journal_labels.remember(
                    (persona, chatmode, model), (event.persona, event.chatmode, event.model)
                )
            return
        if trace_id is not None or self._tracing.provider is not None:
            trace_id = self._parsed(lambda: self._trace(trace_id))
            if trace_id is not None:  # its exemplar needs an event
                event = record_event(
                    batch.labels, input_tokens, output_tokens, self._clock(), trace_id
                )
                self.state.apply(event)
                return
        batch += (input_tokens, output_tokens, self._clock())  # one C-level extend: atomic
        if len(batch) >= BATCH_LENGTH:
            self.state.batches.fold_batch(batch)


__all__ = ["MAX_CACHED_LABELS", "TOKEN_USAGE_OPTIONS", "TokenRecording", "TokenUsageOptions"]
