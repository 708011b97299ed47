"""The recording commands (``switch``, ``tokens``, ``stage``, ``llm``): one event
validated through ``model.events``, appended to the journal, exit.

Each command's option names are the event's field names (see ``commands``),
so the command line maps onto the event without a table of its own. Imports
``model.events`` and ``journal.store`` only: no prometheus_client, no
OpenTelemetry, no YAML, so a persona switch costs milliseconds.
"""

from __future__ import annotations

import sys
import time

from ..journal.store import Journal, JournalError, default_journal_path
from ..model.events import (
    Event,
    LLMCallFinished,
    PersonaSwitched,
    QualityScored,
    StageFinished,
    TokensUsed,
    ToolCallFinished,
    WorkflowRunFinished,
    event_to_dict,
)
from ..model.fields import EventError, number_from_text
from ..model.wire import key_value

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..model.events import EventClass
    from .options import Command

#: The event each recording command records.
EVENTS: dict[str, EventClass] = {
    "switch": PersonaSwitched,
    "tokens": TokensUsed,
    "stage": StageFinished,
    "llm": LLMCallFinished,
    "run": WorkflowRunFinished,
    "tool": ToolCallFinished,
    "score": QualityScored,
}

#: Numeric fields of the events, by kind: what a command line's text must
#: convert to (``fields.number_from_text``) before ``parse``.
WHOLE_FIELDS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "reasoning_tokens",
)
DECIMAL_FIELDS = ("duration_seconds", "cost_usd", "ttft_seconds", "score")

EXIT_NOT_RECORDED = 1
EXIT_USAGE = 2


def run(command: Command, values: dict[Any, Any]) -> int:
    """Record the command's event; 0 when it is in the journal, 2 for bad input,
    1 when the journal refused it (the message says it was NOT recorded)."""
    event_class = EVENTS[command.name]
    absent = {opt.dest: opt.absent for opt in command.opts if opt.absent is not None}
    raw = {
        name: values[name]
        for name in event_class._fields
        if values.get(name) is not None and values.get(name) != absent.get(name)
    }
    try:
        for name, value in raw.items():  # a command line's numbers are text
            if name in WHOLE_FIELDS or name in DECIMAL_FIELDS:
                raw[name] = number_from_text(name, value, whole=name in WHOLE_FIELDS)
        event = event_class.parse(raw, time.time())
        if (
            isinstance(event, TokensUsed)
            and not event.input_tokens
            and not event.output_tokens
            and event.cost_usd is None
        ):  # a typo'd or forgotten option, not a usage worth a row
            raise EventError("input_tokens", 0, "give --input or --output (nothing to record)")
        event_id = key_value("event_id", values.get("event_id"))
        reservation_id = key_value("--reservation-id", values.get("reservation_id"))
    except EventError as exc:
        if exc.field == "gate":  # the command line's own word for no gate
            exc = EventError("--gate", exc.value, "must be passed, failed or none (no gate)")
        print(f"hypertool-exporter: error: {command.name}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    path = values.get("journal") or default_journal_path()
    try:
        with Journal(path) as journal:
            new = journal.append(
                [event], [event_id], releases=[reservation_id] if reservation_id else ()
            )
    except JournalError as exc:
        print(f"hypertool-exporter: error: event NOT recorded: {exc}", file=sys.stderr)
        return EXIT_NOT_RECORDED
    if not values.get("quiet"):
        # The reader may be gone (``| head -0``): the event is recorded all the
        # same, and a non-zero code would have a script record it again.
        try:  # noqa: SIM105 (contextlib: an import a recording makes nowhere else)
            print(confirmation(event) if new else f"already recorded: event id {event_id}")
        except BrokenPipeError:
            pass
    return 0


def confirmation(event: Event) -> str:
    """One short line saying what was recorded: the event's fields, minus the
    timestamp (now) and those at their default."""
    body = event_to_dict(event)
    kind = body.pop("type")
    body.pop("ts", None)
    return f"recorded {kind}: " + ", ".join(f"{name}={value}" for name, value in body.items())


__all__ = ["EVENTS", "confirmation", "run"]
