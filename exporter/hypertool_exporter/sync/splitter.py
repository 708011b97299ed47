"""A long replay on two cores, split by event kind: a helper process folds
some kinds of rows while this one folds the others, and the two states are
merged into the one a fold of every row in order reaches.

Why by kind: the kinds change different parts of the state (switches the
sessions and their durations, tokens the costs and budgets, calls the
latency histograms...), so each part is changed by one process only, in
journal order, and the merge (``fold.merge``) takes each part from the
process that changed it: exact, float sums and session order included.
Reading, decoding and folding a row all happen on the row's side, so both
cores work through the whole replay; the replay of ``sync.replayer``
shares only the reading and decoding between the helper and this process,
and the whole fold stays on one core: the way of a backlog whose kinds a
split cannot balance (token events alone, or tokens and calls).

Which kinds go to the helper is worked out from a sample of the rows to
replay (``kinds_for_helper``), so that both sides have about as much to do;
the kinds that are priced (tokens, a call's late charge to its stage) stay
here, with the price table this process may have changed. When one side
would get most of the work anyway (a journal of token events alone), the
split is not worth it and the replay goes the other way.

Both folds start from the state as it is (``base``): the helper gets its
snapshot JSON and the config on its standard input. This process folds its
kinds into a private copy, so ``/metrics`` keeps showing ``base`` until the
merged state replaces it at once. When the merge refuses (the label caps
were reached part way, where the order of admissions decides), or the
helper fails, the state is left as it was, and the caller replays the rows
another way.

The helper: ``python -m hypertool_exporter.sync.splitter``. Its input is the
pickle of (config, journal path, after id, up-to id, its kinds, base); its
output, the pickle of (its state's snapshot JSON, its exemplars and recent
failed gates, its rows that are not events).
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
from operator import itemgetter
from pathlib import Path
from typing import Any

from ..fold.merge import MergeConflict, merge
from ..fold.state import MetricState
from ..journal.layouts import KINDS
from ..journal.rows import PLAIN_ROW, Rejection, Runs, take_runs
from ..journal.store import Journal, JournalError
from ..model.config import Config
from . import replayer
from .replayer import ReplayError

log = logging.getLogger(__name__)

#: Kinds folded in this process whatever the split: they are priced, with
#: the price table of this process.
PRICED_HERE = frozenset({KINDS["tokens_used"], KINDS["workflow_charged"]})
_EVENT_KINDS = frozenset(KINDS.values())
#: Stands for a plain token row (five values: persona, model, input,
#: output, chat mode) in ``ROW_COST``; a token row's own kind stands for
#: the others (a trace id, token parts, a workflow stage...).
PLAIN_TOKENS = -1
#: What a row of each kind costs to read, decode and fold, in microseconds
#: (measured one kind at a time on the benchmark's journal, 100,000 rows of
#: each): plain token rows, folded as runs, are the cheapest; a token row
#: with a trace id, token parts and a stage to charge (an instrumented
#: workflow's call) the costliest, three times as much.
ROW_COST = {
    KINDS["persona_switched"]: 3.5,
    PLAIN_TOKENS: 2.1,
    KINDS["tokens_used"]: 6.2,
    KINDS["stage_finished"]: 3.0,
    KINDS["llm_call_finished"]: 3.1,
}
#: The same for the other kinds (rarer, and between those).
OTHER_COST = 3.0
#: What the helper spends before its first row, in the same microseconds:
#: starting, its imports and the starting state, and at the end its state
#: sent back (0.09-0.12 s for an empty state, measured the same way).
HELPER_START = 110_000.0
#: The split is used when its busier side has at most this share of the work.
WORTH_SPLITTING = 0.75
#: The sample the split is worked out from: windows of rows, evenly spread.
SAMPLE_WINDOWS, SAMPLE_ROWS = 16, 256
#: Rows replayed per split: the replay snapshots (when due) between them,
#: so that a start stopped part way resumes from there.
SEGMENT_ROWS = 2_000_000
#: Rows read per query.
CHUNK_ROWS = 5000

#: (its state's snapshot JSON, (exemplars, recent failed gates), rejected rows).
HelperResult = tuple[dict[str, Any], tuple[dict[Any, Any], list[Any]], list[Rejection]]


def kinds_for_helper(journal: Journal, after_id: int, up_to: int) -> frozenset[int] | None:
    """The kinds the helper should fold so that both sides have about the
    same work, from a sample of rows ``after_id``..``up_to``; None when the
    busier side would still have more than ``WORTH_SPLITTING`` of it."""
    step = max(1, (up_to - after_id) // SAMPLE_WINDOWS)
    counts: dict[int, int] = {}
    for start in range(after_id, up_to, step):
        query = "SELECT kind, body FROM events WHERE id > ? AND id <= ? ORDER BY id LIMIT ?"
        for kind, body in journal.query(query, (start, up_to, SAMPLE_ROWS)):
            # Values counted by their commas: names are ids, with no commas in them.
            if (kind, body.count(",") + 1) == PLAIN_ROW:
                kind = PLAIN_TOKENS
            counts[kind] = counts.get(kind, 0) + 1
    rows_per_sampled = (up_to - after_id) / max(1, sum(counts.values()))
    cost = {
        kind: n * rows_per_sampled * ROW_COST.get(kind, OTHER_COST) for kind, n in counts.items()
    }
    total = sum(cost.values())
    movable = sorted(kind for kind in cost if kind not in PRICED_HERE and kind in _EVENT_KINDS)
    best: tuple[float, frozenset[int]] = (total, frozenset())
    for size in range(1, len(movable) + 1):
        for chosen in itertools.combinations(movable, size):
            theirs = sum(cost[kind] for kind in chosen)
            busier = max(HELPER_START + theirs, total - theirs)
            best = min(best, (busier, frozenset(chosen)), key=itemgetter(0))
    if not total or best[0] > WORTH_SPLITTING * total:
        return None
    return best[1]


def fold_rows(
    journal: Journal, state: MetricState, after_id: int, up_to: int, kinds: frozenset[int], *,
    among: bool,
) -> list[Rejection]:  # fmt: skip
    """Fold rows ``after_id``..``up_to`` whose kind is among ``kinds`` (or,
    ``among=False``, is not) into ``state``, in order; the rows that are not
    events."""
    marks = ",".join(str(int(kind)) for kind in sorted(kinds)) or "NULL"
    query = (
        f"SELECT id, kind, ts, body FROM events WHERE id > ? AND id <= ? "
        f"AND kind {'' if among else 'NOT '}IN ({marks}) ORDER BY id LIMIT ?"
    )
    rejected: list[Rejection] = []
    last_id = after_id
    runs: Runs = {}  # plain token rows as runs, as a replay helper sends them (``sync.replayer``)
    while rows := journal.query(query, (last_id, up_to, CHUNK_ROWS)):
        events, bad = journal.events_of(rows, runs)
        state.apply_all(events)  # a state of this replay's own: no scrape waits on it
        state.apply_runs(take_runs(runs))
        rejected += bad
        last_id = rows[-1][0]
    return rejected


def replay_if_worth(
    state: MetricState, journal: Journal, after_id: int, up_to: int
) -> list[Rejection] | None:
    """``replay`` with the kinds ``kinds_for_helper`` picks; None (nothing
    done) when a split is not worth it."""
    kinds = kinds_for_helper(journal, after_id, up_to)
    if kinds is None:
        return None
    names = ", ".join(name for name, kind in KINDS.items() if kind in kinds)
    log.info("replaying about %d events in two processes (a helper folds %s)",
             up_to - after_id, names)  # fmt: skip
    return replay(state, journal, after_id, up_to, kinds)


def replay(
    state: MetricState, journal: Journal, after_id: int, up_to: int, kinds: frozenset[int]
) -> list[Rejection]:
    """Fold rows ``after_id``..``up_to`` into ``state``: ``kinds`` in a
    helper process, the rest here; the rows that are not events, by id.
    ``ReplayError`` (the helper failed) or ``MergeConflict`` leave ``state``
    as it was."""
    base = state.to_json()
    transient = state.transient()
    helper = _Helper((state.config, os.fspath(journal.path), after_id, up_to, kinds, base))
    try:
        ours = MetricState(state.config, state.clock)
        ours.load_json(base)
        rejected = fold_rows(journal, ours, after_id, up_to, kinds, among=False)
        theirs, their_transient, their_rejected = helper.result()
    finally:
        helper.stop()
    merged = merge(base, ours.to_json(), theirs, state.config.max_label_values)
    state.adopt(base, merged, _recent(transient, ours.transient(), their_transient))
    return sorted(rejected + their_rejected)


def _recent(
    base: tuple[dict[Any, Any], list[Any]],
    ours: tuple[dict[Any, Any], list[Any]],
    theirs: tuple[dict[Any, Any], list[Any]],
) -> tuple[dict[Any, Any], list[Any]]:
    """Exemplars (the latest of each place) and recent failed gates (newest
    last): those of ``base``, then those of the two folds, which started
    from none (snapshots leave them out)."""
    if ours[0].keys() & theirs[0].keys():
        raise MergeConflict("both folds kept an exemplar of one series")
    if ours[1] and theirs[1]:
        raise MergeConflict("both folds recorded failed gates")
    return {**base[0], **ours[0], **theirs[0]}, base[1] + ours[1] + theirs[1]


class _Helper:
    """The helper process: started with its request, asked for its result."""

    def __init__(self, request: tuple[Any, ...]):
        import pickle  # here, not at import: see ``replayer.start_helper``

        try:
            data = pickle.dumps(request, protocol=5)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:  # a config of code
            raise ReplayError(f"cannot send the replay helper its work: {exc}") from exc
        self.process = replayer.start_helper(__name__, stdin=True)
        # Written from a thread: a large state fills the pipe before the
        # helper, still importing, reads it, and this process has rows to fold.
        self._writer = threading.Thread(target=self._send, args=(data,), daemon=True)
        self._writer.start()

    def _send(self, data: bytes) -> None:
        assert self.process.stdin is not None
        try:
            with self.process.stdin as stdin:
                stdin.write(data)
        except (OSError, ValueError):  # the helper died: its exit status says so
            pass

    def result(self) -> HelperResult:
        import pickle

        assert self.process.stdout is not None
        data = self.process.stdout.read()
        replayer.wait_for(self.process)
        try:
            state, transient, rejected = pickle.loads(data)
            if not isinstance(state, dict) or not isinstance(rejected, list):
                raise ValueError("not a helper's result")
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
            raise ReplayError(f"the replay helper sent what is not a result: {exc}") from exc
        return state, transient, rejected

    def stop(self) -> None:
        replayer.stop(self.process)
        self._writer.join()


def main() -> int:
    """``python -m hypertool_exporter.sync.splitter`` (request on standard input)."""
    import pickle

    replayer.become_helper()
    config, path, after_id, up_to, kinds, base = pickle.load(sys.stdin.buffer)
    assert isinstance(config, Config)
    state = MetricState(config)
    state.load_json(base)
    try:
        with Journal(Path(path), create=False) as journal:
            rejected = fold_rows(journal, state, after_id, up_to, kinds, among=True)
    except JournalError as exc:
        print(f"replay helper: {exc}", file=sys.stderr)
        return 1
    pickle.dump((state.to_json(), state.transient(), rejected), sys.stdout.buffer, protocol=5)
    return 0


__all__ = [
    "PRICED_HERE",
    "SEGMENT_ROWS",
    "fold_rows",
    "kinds_for_helper",
    "main",
    "replay",
    "replay_if_worth",
]

if __name__ == "__main__":
    sys.exit(main())
