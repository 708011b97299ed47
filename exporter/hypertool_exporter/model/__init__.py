"""The ground floor: names, types, validation and constants, each defined once.

``events`` (the typed events: the one way raw input becomes an event;
``eventbase`` is what each is made of; ``work`` the events about work:
workflow runs, tool calls, quality scores; ``runs`` the hot path's
records as runs of numbers, and the events they stand for),
``fields`` (the vocabulary and the field validators events are built from;
``label_forms`` what raw label values became, for inputs that repeat them),
``wire`` (events' JSON for the journal, and delivery keys),
``catalog`` (every metric; ``metricspec`` describes one, ``genai_metrics``
the OpenTelemetry GenAI ones, ``work_metrics`` those of work,
``journal_metrics`` the journal's), ``budgets`` (UTC periods; ``budget_check``
whether an amount fits before it is spent), ``money`` (exact
dollars), ``pricing`` and ``price_database`` (genai-prices;
``price_index`` its answers for the models its data names, shipped, so
pricing those does not load it), ``genai``
(spans to events; ``genai_conventions`` where each instrumentation library
writes a call's numbers, as data, read through ``genai_usage``;
``genai_work`` the spans about workflows, agents, tools and evaluations;
``span_sources`` where persona and chat mode are read, for the config)
and ``lineage`` (which nested span counts, and what is above a call;
``waiting`` the calls that wait for their workflow), ``jsontext``
(outside JSON, read once), ``yamlfile`` (config files, read with bounds),
``config``, and ``cores`` (the cores this process may use, a container's CPU
limit counted).

May import: the standard library, PyYAML (``yamlfile`` and ``config``, when a
file is read) and ``_version``; nothing else of this package. ``events``,
``fields`` and ``wire`` are on the recording CLI's fast path (with ``work``)
and import the standard library alone (not even ``json`` or ``re``). This file
imports nothing, so ``import hypertool_exporter.model.events`` stays cheap.
"""
