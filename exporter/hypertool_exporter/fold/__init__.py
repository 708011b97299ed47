"""The one fold: validated events in, metric and budget state out.

``state`` (``MetricState.apply`` and ``enqueue``) and ``cardinality`` (the
caps on distinct label values).

May import: ``model``.
"""
