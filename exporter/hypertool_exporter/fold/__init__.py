"""The one fold: validated events in, metric and budget state out.

``state`` (``MetricState``: ``apply`` in, ``view`` out), ``series`` (the
containers it keeps), ``view`` (the immutable copy every reader reads),
``handlers`` (what each event class
changes, from plans cached per label values; ``sessions`` a session's
persona switches; ``calls`` LLM calls; ``plans`` names a token
plan's parts and holds the token rule), ``batches`` (the token hot
path's records, folded a label set at a time; ``usage_runs`` those with
usage options, a commit's run at a time), ``cardinality`` (the
caps on distinct label values), ``histogram`` (series in flat lists, copied
whole), ``genai`` (the OpenTelemetry convention metrics), ``work``
(workflow runs, tool calls, scores, and each stage's cost), ``persist``
(snapshot JSON) and ``merge`` (two folds of one journal, split by event
kind, made one).

May import: ``model``.
"""
