"""The durable journal: an append-only SQLite file of validated events.

``store`` (open, append, read, snapshots, compaction), ``rows`` (events as
rows and back), ``layouts`` (how each event class lies in a row, and a
reader made for each layout), ``rollup`` (typed events to per-day rows, in
one place), ``writer`` (thread-safe appends), ``tailer`` (follows the
journal into the fold, with its status) and ``replayer`` (a helper process
that reads and decodes a long backlog while the tailer folds it).

May import: ``model`` (``store``, ``rows``, ``layouts`` and ``rollup``:
``model.events`` and the standard library only, since the recording CLI
imports them) and ``fold`` (``tailer``). This file imports nothing.
"""
