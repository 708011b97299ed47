"""The durable journal: an append-only SQLite file of validated events.

``store`` (open, append, read, snapshots, compaction), ``driver`` (the
SQLite driver, without ``sqlite3``'s ``datetime`` adapters), ``schema`` (the
tables and their upgrades), ``migrate`` (schema 3 rows rewritten),
``errors`` (``JournalError``), ``rows`` (events as rows and back;
``run_rows`` the rows of records in runs, a run at a time),
``inserts`` (rows inserted many at a time, in statements compiled once),
``templates`` (rows written into the text their label set's rows share),
``layouts`` (how each event class lies in a row, and a reader made for each
layout), ``rollup`` (typed events to per-day rows, in one place), ``totals``
(per-day sums for ``stats``), ``reservations`` (budget amounts held for
calls not made yet), ``writer`` (thread-safe appends and reservations) and
``buffer`` (the events a writer commits within milliseconds, at
``journal.durability: buffered``). Following
the journal into the fold is ``sync``'s job, a layer above.

May import: ``model`` only (``store``, ``rows``, ``run_rows``, ``inserts``,
``layouts`` and ``rollup``: ``model.events`` and ``model.runs`` and the
standard library only, since the recording CLI imports them). This file imports nothing.
"""
