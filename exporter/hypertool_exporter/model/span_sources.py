"""Where a span's persona and chat mode are read from: the config's ``otlp``
section. Apart from ``genai``, which maps spans, so that reading a config
(every ``serve`` does) does not load the GenAI conventions: an exporter
without OTLP ingest never needs them.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Where the persona and chat mode are looked for, first match wins.
DEFAULT_PERSONA_ATTRIBUTES = (
    "hypertool.persona",
    "gen_ai.agent.name",
    "traceloop.association.properties.persona",
    "langfuse.user.id",
    "user.id",
    "enduser.id",
)
DEFAULT_CHATMODE_ATTRIBUTES = (
    "hypertool.chatmode",
    "langfuse.session.id",
    "session.id",
)


@dataclass(frozen=True, slots=True)
class SpanMapping:
    """Where persona and chat mode come from (the config's ``otlp`` section)."""

    persona_attributes: tuple[str, ...] = DEFAULT_PERSONA_ATTRIBUTES
    chatmode_attributes: tuple[str, ...] = DEFAULT_CHATMODE_ATTRIBUTES


__all__ = ["DEFAULT_CHATMODE_ATTRIBUTES", "DEFAULT_PERSONA_ATTRIBUTES", "SpanMapping"]
