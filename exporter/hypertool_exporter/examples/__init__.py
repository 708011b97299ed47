"""Runnable examples: ``python -m hypertool_exporter.examples.<name>``.

They use only the public API (``instrument``), run offline with a fake LLM
and print what they recorded.

May import: ``model`` and ``instrument``.
"""

__all__: list[str] = []
