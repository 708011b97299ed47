"""A long replay on two cores: a helper process reads and decodes the
journal's rows while the replaying process folds them. The way of a backlog
that one kind of event fills; where several kinds share the work, the
replay is split by kind instead (``sync.splitter``), and the fold runs on
both cores.

A journal that no ``serve`` has snapshotted (the CLI or ingest filled it) is
replayed whole at start-up. In one interpreter, reading a row, decoding it
and folding its event take turns, about 0.5, 1.1 and 1.2 us an event, and
none of it can run beside the others under one interpreter lock. The
helper (``python -m hypertool_exporter.sync.replayer PATH AFTER_ID``)
reads and decodes with the tailer's own decoder (``Journal.columns_of``) and
writes the events' classes and values to its standard output in pickled
chunks; the replaying process only
rebuilds them (about 0.3 us an event) and folds each chunk while the helper
decodes the next. A replay then takes about as long as the slower half.

The helper decides nothing: rows that are not events come back as
rejections, which the tailer counts and logs as its own. A helper that
cannot start or fails part way leaves the rest to the tailer, from the last
chunk folded, so a replay's result never depends on it.

A chunk is 8 bytes of length (big-endian), then the pickle of (id of its
last row, the events' classes, their field values, rejections). Pickle, over a
pipe between two processes of this package: it is fast to read, and it
writes each name once per chunk however many events share it.
"""

from __future__ import annotations

import gc
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from ..journal.rows import Rejection
from ..journal.store import Journal, JournalError
from ..model.cores import cores
from ..model.events import EVENT_CLASSES, Event, from_validated

if TYPE_CHECKING:
    import subprocess

#: Rows behind the journal's head from which ``catch_up`` uses a helper:
#: below it, starting one costs more than it saves (about 0.15 s).
HELPER_FROM = 100_000
#: Rows per chunk.
CHUNK_ROWS = 5000
#: Bytes past which a chunk's length is taken for garbage (a chunk of 5,000
#: events is about 150 KB; its names and trace ids are bounded by validation).
MAX_CHUNK_BYTES = 1 << 26

_EVENT_CLASSES = frozenset(EVENT_CLASSES.values())

#: (id of a chunk's last row, its events, its rows that are not events).
Chunk = tuple[int, list[Event], list[Rejection]]


class ReplayError(Exception):
    """The helper could not start, or stopped before the journal's head."""


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
    """The events of the journal at ``path`` after row ``after_id``, a chunk
    at a time, read and decoded by a helper process; ``ReplayError`` when it
    fails (the chunks given before it stand)."""
    import pickle

    helper = start_helper(__name__, os.fspath(path), str(after_id))
    assert helper.stdout is not None
    try:
        while header := helper.stdout.read(8):
            size = int.from_bytes(header, "big")
            if size > MAX_CHUNK_BYTES:
                raise ReplayError(f"the replay helper sent what is not a chunk ({size} bytes)")
            data = helper.stdout.read(size)
            if len(header) < 8 or len(data) < size:
                raise ReplayError("the replay helper stopped part way through a chunk")
            try:
                last_id, classes, values, rejected = pickle.loads(data)
                if not _EVENT_CLASSES.issuperset(classes):
                    raise ValueError("classes that are not events")
                events = list(map(from_validated, classes, values))
            except (pickle.UnpicklingError, EOFError, ValueError, TypeError) as exc:
                raise ReplayError(f"the replay helper sent what is not a chunk: {exc}") from exc
            yield last_id, events, rejected
        wait_for(helper)
    finally:
        stop(helper)


def write_chunks(journal: Journal, after_id: int, out: BinaryIO) -> None:
    """The helper's work: every row after ``after_id`` read, decoded and
    written to ``out`` as chunks, up to the head of the journal."""
    import pickle

    last_id = after_id
    while rows := journal.read_after(last_id, CHUNK_ROWS):
        classes, values, rejected = journal.columns_of(
            rows
        )  # classes: once a chunk, then by reference
        last_id = rows[-1][0]
        data = pickle.dumps((last_id, classes, values, rejected), protocol=5)
        out.write(len(data).to_bytes(8, "big"))
        out.write(data)
        if len(rows) < CHUNK_ROWS:
            break
    out.flush()


def main(argv: list[str] | None = None) -> int:
    """``python -m hypertool_exporter.sync.replayer PATH AFTER_ID``."""
    path, after_id = argv if argv is not None else sys.argv[1:]
    become_helper()
    try:
        with Journal(path, create=False) as journal:
            write_chunks(journal, int(after_id), sys.stdout.buffer)
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
