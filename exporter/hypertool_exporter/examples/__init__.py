"""Runnable examples: ``python -m hypertool_exporter.examples.<name>``.

``instrumented_workflow``: a persona workflow with stages, gates and LLM
calls. They use only the public API (``instrument``), run offline with a fake LLM
and print what they recorded.

May import: ``model`` and ``instrument``.
"""

__all__: list[str] = []
