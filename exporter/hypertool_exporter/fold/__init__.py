"""The one fold: validated events in, metric and budget state out.

``state`` (``MetricState.apply`` and ``enqueue``), ``handlers`` (what each
event class changes, from plans cached per label values), ``cardinality`` (the
caps on distinct label values), ``histogram`` (series in flat lists, copied
whole), ``genai`` (the OpenTelemetry convention metrics) and ``persist``
(snapshot JSON).

May import: ``model``.
"""
