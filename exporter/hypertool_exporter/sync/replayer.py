"""A long replay on two cores: a helper process reads and decodes the
journal's rows while the replaying process folds them. The way of a backlog
that one kind of event fills; where several kinds share the work, the
replay is split by kind instead (``sync.splitter``), and the fold runs on
both cores.

A journal that no ``serve`` has snapshotted (the CLI or ingest filled it) is
replayed whole at start-up. In one interpreter, reading a row, decoding it
and folding its event take turns, about 0.9, 1.2 and 1 us an event, and
none of it can run beside the others under one interpreter lock. The
helper (``python -m hypertool_exporter.sync.replayer PATH AFTER_ID UP_TO``)
reads and decodes with the tailer's own decoder (``Journal.columns_of``) and
writes the events' classes and values to its standard output in pickled
chunks; the replaying process only rebuilds them (about 0.3 us an event)
and folds each chunk while the helper decodes the next. Plain token rows,
the most frequent, travel as runs of numbers (``rows.decode_rows``): the
replaying process adds a run to its label set's batch at once.

Where folding a chunk costs less than reading and decoding it (token
events, which add up in their label set's batch), the replaying process
would wait for the helper. So when the helper's next chunk is not there
yet, this process claims the one after it (it tells the helper, on the
helper's standard input, to skip it), reads and decodes it itself, and
folds it in its turn: the two share the reading as their speeds allow,
and a replay takes about as long as its work over both cores. A chunk the
helper began before it saw the claim is decoded twice; the helper's copy
is dropped.

The helper decides nothing: rows that are not events come back as
rejections, which the tailer counts and logs as its own. A helper that
cannot start or fails part way leaves the rest to the tailer, from the last
chunk folded, so a replay's result never depends on it.

Chunk ``i`` holds the rows with ids ``AFTER_ID + i * CHUNK_ROWS`` (not
included) to ``AFTER_ID + (i + 1) * CHUNK_ROWS``, none past ``UP_TO``
(``AFTER_ID`` here: the row before the first to replay). On the helper's
output a chunk is 8 bytes of length (big-endian), then the pickle of (its
index, the id it ends at, the events' classes, their field values,
rejections, runs); on its input a claim is a chunk's index, 8 bytes big-endian.
Pickle, over a pipe between two processes of this package: it is fast to
read, and it writes each name once per chunk however many events share it.
"""

from __future__ import annotations

import gc
import os
import select
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from ..journal.rows import Rejection, Runs, take_runs
from ..journal.store import Journal, JournalError
from ..model.cores import cores
from ..model.events import EVENT_CLASSES, Event, from_validated
from ..model.runs import Run

if TYPE_CHECKING:
    import subprocess

#: Rows behind the journal's head from which ``catch_up`` uses a helper:
#: below it, starting one costs more than it saves (about 0.15 s).
HELPER_FROM = 100_000
#: Row ids per chunk.
CHUNK_ROWS = 5000
#: Bytes the helper's output pipe is asked to hold (Linux's default limit
#: for a process without privileges).
PIPE_BYTES = 1 << 20
#: Bytes past which a chunk's length is taken for garbage (a chunk of 5,000
#: events is 150-200 KB; its names and trace ids are bounded by validation).
MAX_CHUNK_BYTES = 1 << 26

_EVENT_CLASSES = frozenset(EVENT_CLASSES.values())

#: (the id a chunk ends at, its events, its rows that are not events, its
#: plain token records as runs, to fold after its events: ``rows.decode_rows``).
Chunk = tuple[int, list[Event], list[Rejection], list[Run]]


class ReplayError(Exception):
    """The helper could not start or stopped before the journal's head, or
    the journal could not be read here."""


def helper_usable() -> bool:
    """Whether a helper can help: this process may run on two cores or more
    (on one, the helper and the fold would take turns, and the chunks cost
    more than they save), and can start one (a frozen application's
    executable is the application itself). A container's CPU limit counts
    (``model.cores``)."""
    return cores() >= 2 and not getattr(sys, "frozen", False) and bool(sys.executable)


def start_helper(module: str, *args: str, stdin: bool = False) -> subprocess.Popen[bytes]:
    """``python -m module args`` on this interpreter and import path, its
    output (and, with ``stdin``, its input) piped: a replay helper (this
    module's, or ``sync.splitter``'s); ``ReplayError`` when it cannot start."""
    # Here, not at import: an exporter that never replays a long backlog
    # never needs it (an idle one holds less).
    import subprocess

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    try:
        return subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.PIPE if stdin else None,
            stdout=subprocess.PIPE,
            env=env,
        )
    except OSError as exc:
        raise ReplayError(f"cannot start the replay helper: {exc}") from exc


def wait_for(helper: subprocess.Popen[bytes]) -> None:
    """Wait for ``helper`` to exit; ``ReplayError`` unless it succeeded."""
    if helper.wait() != 0:
        raise ReplayError(f"the replay helper exited with status {helper.returncode}")


def stop(helper: subprocess.Popen[bytes]) -> None:
    """Kill ``helper`` if it still runs (its replay was given up), and close its output."""
    if helper.poll() is None:
        helper.kill()
        helper.wait()
    assert helper.stdout is not None
    helper.stdout.close()


def become_helper() -> None:
    """Set up a helper process for its one replay: no cyclic garbage
    collection (it makes no cycles, and lives for one replay), and no
    Ctrl-C (a Ctrl-C at the terminal reaches the whole process group: the
    replaying process stops its helper itself, without a second traceback)."""
    gc.disable()
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def chunks(path: Path, after_id: int) -> Iterator[Chunk]:
    """The events of the journal at ``path`` after row ``after_id``, up to its
    head now, a chunk at a time, read and decoded by a helper process and,
    when it lags, by this one; ``ReplayError`` when it fails (the chunks
    given before it stand)."""
    try:
        with Journal(path, create=False) as journal:
            start, up_to = _range(journal, after_id)
            if up_to > start:
                yield from _shared(journal, start, up_to)
    except JournalError as exc:
        raise ReplayError(f"cannot replay {path}: {exc}") from exc


def _range(journal: Journal, after_id: int) -> tuple[int, int]:
    """(the row id before the first after ``after_id``, the head): a journal
    compacted part way starts where its rows do, not with empty chunks."""
    (first,) = journal.query("SELECT min(id) FROM events WHERE id > ?", (after_id,))[0]
    return (after_id, after_id) if first is None else (first - 1, journal.last_id())


def _shared(journal: Journal, start: int, up_to: int) -> Iterator[Chunk]:
    """Chunks ``start``..``up_to`` in order: the helper's, and those this
    process claimed and decoded itself while the helper's were not ready."""
    helper = start_helper(__name__, os.fspath(journal.path), str(start), str(up_to), stdin=True)
    assert helper.stdin is not None and helper.stdout is not None
    count = _count(start, up_to)
    own: dict[int, Chunk] = {}  # claimed and decoded here, not yet given
    runs: Runs = {}  # the label sets of the token rows decoded here, and their runs
    output = helper.stdout.fileno()  # read whole, unbuffered: ``select`` sees what waits
    _widen(output)
    claims: int | None = helper.stdin.fileno()  # a claim is 8 bytes: written whole
    try:
        for index in range(count):
            chunk = own.pop(index, None)
            if chunk is None:
                ahead = index + 1
                if claims is not None and ahead < count and not _ready(output):
                    try:
                        os.write(claims, ahead.to_bytes(8, "big"))
                    except OSError:  # the helper is gone: reading its output says why
                        claims = None
                    else:
                        own[ahead] = _decoded(journal, start, up_to, ahead, runs)
                chunk = _from_helper(output, index)
                if chunk is None:  # its output ended where a chunk was due
                    wait_for(helper)  # an exit status says why
                    raise ReplayError("the replay helper stopped before the journal's head")
            yield chunk
        wait_for(helper)
    finally:
        helper.stdin.close()
        stop(helper)


def _widen(pipe: int) -> None:
    """Let the pipe hold several chunks (Linux; a chunk is about 200 KB, a
    pipe 64 KiB by default): while this process decodes a chunk of its own,
    the helper writes its next ones rather than waiting to."""
    try:
        import fcntl

        fcntl.fcntl(pipe, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # elsewhere, or past the system's limit
        pass


def _decoded(journal: Journal, start: int, up_to: int, index: int, runs: Runs) -> Chunk:
    """Chunk ``index``, read and decoded in this process."""
    rows, last_id = _rows(journal, start, up_to, index)
    events, rejected = journal.events_of(rows, runs)
    return last_id, events, rejected, take_runs(runs)


def _count(start: int, up_to: int) -> int:
    """How many chunks rows ``start``..``up_to`` make (both processes count alike)."""
    return -(-(up_to - start) // CHUNK_ROWS)


def _rows(journal: Journal, start: int, up_to: int, index: int) -> tuple[list[Any], int]:
    """The rows of chunk ``index`` (as ``Journal.read_after`` gives them), and
    the id the chunk ends at."""
    low = start + index * CHUNK_ROWS
    high = min(up_to, low + CHUNK_ROWS)
    query = "SELECT id, kind, ts, body FROM events WHERE id > ? AND id <= ? ORDER BY id"
    return journal.query(query, (low, high)), high


def _ready(output: int) -> bool:
    """Whether the helper has begun writing a chunk (or has exited); taken
    as so where a pipe cannot be polled (no claims then)."""
    try:
        return bool(select.select([output], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _from_helper(output: int, index: int) -> Chunk | None:
    """The helper's chunk ``index``, read from ``output`` (None: its output
    ended before it); the copies of chunks this process claimed that the
    helper had begun already are dropped on the way."""
    import pickle

    while True:
        header = _exactly(output, 8, at_end=True)
        if not header:
            return None
        size = int.from_bytes(header, "big")
        if size > MAX_CHUNK_BYTES:
            raise ReplayError(f"the replay helper sent what is not a chunk ({size} bytes)")
        data = _exactly(output, size)
        try:
            their_index, last_id, classes, values, rejected, runs = pickle.loads(data)
            if not _EVENT_CLASSES.issuperset(classes) or not isinstance(their_index, int):
                raise ValueError("classes that are not events")
            if not all(map(_is_run, runs)):
                raise ValueError("runs that are not token records")
            if their_index > index:
                raise ValueError(f"chunk {their_index} where {index} was due")
            if their_index < index:  # claimed here, begun there: decoded twice
                continue
            return last_id, list(map(from_validated, classes, values)), rejected, runs
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
            raise ReplayError(f"the replay helper sent what is not a chunk: {exc}") from exc


def _is_run(run: Any) -> bool:
    """Whether ``run`` is a label set (three names) and a list of records."""
    labels, records = run
    return (
        type(labels) is tuple and len(labels) == 3
        and all(type(name) is str for name in labels) and type(records) is list
    )  # fmt: skip


def _exactly(output: int, size: int, at_end: bool = False) -> bytes:
    """``size`` bytes from the helper's output; ``ReplayError`` when it ends
    part way (with ``at_end``, none when it ended before the first)."""
    data = b""
    while len(data) < size:
        more = os.read(output, min(size - len(data), 1 << 20))
        if not more:
            if data or not at_end:
                raise ReplayError("the replay helper stopped part way through a chunk")
            return data
        data += more
    return data


def write_chunks(
    journal: Journal, start: int, up_to: int, out: BinaryIO, claims: int | None = None
) -> None:
    """The helper's work: chunks ``start``..``up_to`` read, decoded and
    written to ``out`` in order, but for those claimed on the descriptor
    ``claims`` (read without waiting) before the helper got to them."""
    import pickle

    claimed: set[int] = set()
    pending = b""
    runs: Runs = {}
    if claims is not None:
        try:
            os.set_blocking(claims, False)
        except OSError:  # a pipe that cannot be read without waiting: no claims
            claims = None
    for index in range(_count(start, up_to)):
        if claims is not None:
            pending = _read_claims(claims, pending, claimed)
        if index in claimed:
            continue
        rows, last_id = _rows(journal, start, up_to, index)
        classes, values, rejected = journal.columns_of(rows, runs)
        chunk = (index, last_id, classes, values, rejected, take_runs(runs))
        data = pickle.dumps(chunk, protocol=5)
        out.write(len(data).to_bytes(8, "big"))
        out.write(data)
        out.flush()  # whole: the replaying process waits for it, or claims the next


def _read_claims(claims: int, pending: bytes, claimed: set[int]) -> bytes:
    """Add the chunk indices waiting on ``claims`` to ``claimed``; the bytes
    of a claim not whole yet."""
    try:
        while more := os.read(claims, 4096):
            pending += more
    except BlockingIOError:  # nothing more for now
        pass
    whole = len(pending) - len(pending) % 8
    claimed.update(int.from_bytes(pending[i : i + 8], "big") for i in range(0, whole, 8))
    return pending[whole:]


def main(argv: list[str] | None = None) -> int:
    """``python -m hypertool_exporter.sync.replayer PATH AFTER_ID UP_TO``
    (claims on standard input)."""
    path, start, up_to = argv if argv is not None else sys.argv[1:]
    become_helper()
    try:
        with Journal(path, create=False) as journal:
            write_chunks(journal, int(start), int(up_to), sys.stdout.buffer, sys.stdin.fileno())
    except JournalError as exc:
        print(f"replay helper: {exc}", file=sys.stderr)
        return 1
    return 0


__all__ = [
    "CHUNK_ROWS",
    "HELPER_FROM",
    "Chunk",
    "ReplayError",
    "become_helper",
    "chunks",
    "helper_usable",
    "main",
    "start_helper",
    "stop",
    "wait_for",
    "write_chunks",
]

if __name__ == "__main__":
    sys.exit(main())
