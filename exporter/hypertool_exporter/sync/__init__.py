"""The sync layer: feeds the journal into the fold, and says how that stands.

``tailer`` (restores the snapshot once, folds new rows, snapshots and
compacts), ``announced`` (this process's own commits, folded as the events
they were, without reading them back), ``splitter`` (a long backlog
split by event kind with a helper process that folds its share),
``replayer`` (a helper process that reads and decodes a long backlog while
the tailer folds it), ``spend`` (the status page's reader of spend per day),
``budget_desk`` (budget checks and reservations, decided on the journal's
totals and its live reservations) and ``status``
(what the tailer and this process's writer know of the journal: up, lag,
size, snapshots).

Storage (``journal``) and the fold (``fold``) are siblings that know nothing
of each other; this layer is the one place that joins them.

May import: ``model``, ``fold`` and ``journal``. This file imports nothing.
"""
