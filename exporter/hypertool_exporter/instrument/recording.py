"""What ``PersonaMetricsCollector`` gives the modules that hold its recording
methods (``tokens``, ``work``, ``calls``), declared once for the type
checker: each of those classes is a part of the collector, not a class of
its own to be made."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ..model.events import Event
    from ..model.label_forms import LabelForms
    from .tracing import TracingState

T = TypeVar("T")


class Recording:
    """The collector's parts that every recording method uses."""

    _clock: Callable[[], float]
    #: The given trace id (validated), else the current span's.
    _trace: Callable[[str | None], str | None]
    #: Whether a call has no trace id, given or current.
    _untraced: Callable[[str | None], bool]
    #: Where a call built from label values seen before goes.
    _add: Callable[[Event], None]
    #: Label values seen before, validated (``label_forms``).
    _label_forms: LabelForms
    #: Where a record of a run (``model.runs``: validated labels, its numbers
    #: checked) goes: the buffer's ``add_record`` (``journal.durability:
    #: buffered``), else ``_record_run`` (an event each).
    _journal_add: Callable[[tuple[Any, ...], tuple[Any, ...]], None]
    #: Whether that is the buffer (tool calls, stages and switches are events otherwise).
    _runs_kept: bool
    _tracing: TracingState

    if TYPE_CHECKING:

        def record(self, event: Event, *, release: str | None = None) -> None: ...

        def _parsed(self, parse: Callable[[], T]) -> T: ...


__all__ = ["Recording"]
