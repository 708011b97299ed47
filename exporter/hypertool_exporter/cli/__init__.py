"""The ``hypertool-exporter`` command line.

``commands`` (the one table of commands and options that both parsers are
built from), ``options`` (what the table is made of), ``main`` (parsing
and dispatch), ``record`` (the recording commands), ``check`` (whether an
amount fits a budget), ``stats``,
``fleet`` (``stats --prometheus``: the table for a fleet), ``demo`` and
``demo_stack``.

May import: anything in the package. The recording commands import only
``model.events`` and ``journal.store`` (and what they import), so a persona
switch costs milliseconds. This file imports nothing.
"""
