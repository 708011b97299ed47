"""Persona switches: each session's current persona, how long each persona
held it, and the switches between them.

A switch is folded against its session's switch before: the time since
then is the previous persona's duration, and a switch that names no
previous persona takes the session's. So a session's switches are folded in
the order they were recorded, whatever their label sets; a journalled
collector keeps them in one run per session (``model.runs``), whose records
are folded in that order here: the session is taken from the sessions once
a run, each switch folded against the one before it in hand (``_switched``,
the one fold of a switch, an event's too), and the session kept once, with
its switches counted at once. Sessions are kept up to ``MAX_SESSIONS``,
the least recently switched dropped first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..model import catalog as c
from ..model.events import PersonaSwitched
from ..model.fields import MAX_SECONDS, NO_PERSONA

if TYPE_CHECKING:
    from .cardinality import LabelGuard
    from .series import Series

#: Sessions whose current persona is kept (the oldest switched is dropped).
MAX_SESSIONS = 10_000

_SWITCHED = (PersonaSwitched.TYPE,)
_SWITCHES = c.PERSONA_SWITCHES.name
#: A switch plan: the admitted persona, chat mode and previous persona (or None).
SwitchPlan = tuple[str, str, str | None]
#: What a session holds: its persona, chat mode, and since when.
Held = tuple[str, str, float]


class SessionFold:
    """The fold of ``PersonaSwitched`` events into ``series`` (under the
    state's lock), for ``fold.handlers.Handlers``."""

    def __init__(
        self, series: Series, guard: LabelGuard, cacheable: Callable[[int, dict[Any, Any]], bool]
    ):
        self.series = series
        self.guard = guard
        #: Whether a plan may be cached (``Handlers._cacheable``: the one rule).
        self._cacheable = cacheable
        self.clear_plans()

    def clear_plans(self) -> None:
        """Forget the plans, and bind the sessions and series afresh
        (``Handlers.clear_plans``: the series were replaced)."""
        series = self.series
        #: Plans by (persona, chat mode, previous persona), as recorded.
        self._plans: dict[tuple[Any, ...], SwitchPlan] = {}
        self._switches = series.counters[_SWITCHES]
        self._durations = series.histograms[c.PERSONA_DURATION.name]
        self._sessions = series.sessions
        self._applied = series.counters[c.EVENTS_APPLIED.name]

    def _plan(self, labels: tuple[Any, ...]) -> SwitchPlan:
        """(persona, chat mode, previous persona or None) of switches with
        ``labels``, admitted."""
        admit, refusals = self.guard.admit, self.guard.refusals
        to_persona, chatmode, from_persona = labels
        plan = (
            admit("persona", to_persona),
            admit("chatmode", chatmode),
            None if from_persona is None else admit("persona", from_persona),
        )
        if self._cacheable(refusals, self._plans):
            self._plans[labels] = plan
        return plan

    def persona_switched(self, ev: PersonaSwitched) -> None:
        to_persona, chatmode, from_persona, session, ts = ev
        held = self._switched(
            self._sessions.pop(session, None), to_persona, chatmode, from_persona, ts
        )
        self._hold(session, held, 1)

    def switch_run(self, labels: tuple[Any, ...], run: list[Any]) -> bool:
        """``persona_switched`` for each record of a session's run
        (``model.runs``: ``(PersonaSwitched, session)``; persona, chat mode,
        previous persona and time a record), in order: the session is taken
        once, each switch folded against the one before it, and kept once."""
        session, switched = labels[1], self._switched
        held = self._sessions.pop(session, None)
        for to_persona, chatmode, from_persona, ts in zip(
            run[0::4], run[1::4], run[2::4], run[3::4], strict=True
        ):
            held = switched(held, to_persona, chatmode, from_persona, ts)
        if held is not None:  # always: a run holds a record at least
            self._hold(session, held, len(run) >> 2)
        return True

    def _hold(self, session: str, held: Held, switches: int) -> None:
        """Keep ``session``'s persona after its ``switches`` switches."""
        sessions = self._sessions
        if len(sessions) >= MAX_SESSIONS:
            sessions.popitem(last=False)
        sessions[session] = held
        applied = self._applied
        applied[_SWITCHED] = applied.get(_SWITCHED, 0.0) + switches

    def _switched(
        self,
        previous: Held | None,
        to_persona: str,
        chatmode: str,
        from_persona: str | None,
        ts: float,
    ) -> Held:
        """Fold one switch against its session's switch before (``previous``,
        taken from the sessions); what the session holds after it."""
        labels = (to_persona, chatmode, from_persona)
        to_persona, chatmode, from_persona = self._plans.get(labels) or self._plan(labels)
        since = ts
        if previous is not None:
            if from_persona is None:
                from_persona = previous[0]
            elapsed = ts - previous[2]
            if elapsed >= 0.0:  # capped like an explicit duration
                was, durations = previous[:2], self._durations
                (durations.get(was) or durations.add(was)).observe(
                    elapsed if elapsed < MAX_SECONDS else MAX_SECONDS
                )
            else:  # an event out of order: the session's start never moves backwards
                since = previous[2]
        elif from_persona is None:
            from_persona = NO_PERSONA
        switches = self._switches
        key = (from_persona, to_persona, chatmode)
        switches[key] = switches.get(key, 0.0) + 1.0
        return (to_persona, chatmode, since)


__all__ = ["MAX_SESSIONS", "SessionFold", "SwitchPlan"]
