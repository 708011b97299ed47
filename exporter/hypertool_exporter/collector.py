"""The public in-process API: record persona, token, workflow and LLM events.

``PersonaMetricsCollector`` keeps the seed project's method names so its
users can switch. Each call validates its input into an event and hands it
to the one fold; with a journal, events are appended durably instead and a
tailer folds them, exactly as ``hypertool-exporter serve`` does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from prometheus_client.registry import REGISTRY, CollectorRegistry

from .config import Config
from .events import (
    Event,
    EventError,
    LLMCallFinished,
    PersonaSwitched,
    StageFinished,
    TokensUsed,
)
from .exposition import StateCollector
from .journal import Journal
from .server import ExporterHTTPServer
from .state import MetricState
from .tailer import JournalTailer

DEFAULT_PORT = 9464


class PersonaMetricsCollector:
    """Records persona-system events and exposes them as Prometheus metrics.

    ``registry``: where the metrics are registered; a private
    ``CollectorRegistry`` in tests, prometheus_client's default otherwise.
    ``journal``: a journal file; when given, every event is appended durably
    and folded by a tailer thread (a little later, and surviving restarts).
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        config: Config | None = None,
        journal: str | Path | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.state = MetricState(config, clock)
        self.registry = registry if registry is not None else CollectorRegistry()
        self.registry.register(StateCollector(self.state))
        self._clock = clock
        self._server: ExporterHTTPServer | None = None
        self._journal: Journal | None = None
        self._journal_lock = threading.Lock()
        self.tailer: JournalTailer | None = None
        if journal is not None:
            self._journal = Journal(journal)
            self.tailer = JournalTailer(self.state, journal)
            self.tailer.start()

    # -- recording ----------------------------------------------------------

    def record(self, event: Event) -> None:
        """Record a validated event: fold it now, or append it to the journal."""
        if self._journal is None:
            self.state.apply(event)
        else:
            with self._journal_lock:
                self._journal.append([event])

    def _parsed(self, parse: Callable[[], Event]) -> Event:
        try:
            return parse()
        except EventError as exc:
            self.state.reject(exc.code)
            raise

    def switch_persona(
        self,
        from_persona: str | None,
        to_persona: str,
        chatmode: str = "default",
        *,
        session: str = "default",
    ) -> None:
        """Record a switch; ``from_persona=None`` lets the session's current persona stand."""
        self.record(
            self._parsed(
                lambda: PersonaSwitched.parse(
                    {
                        "to_persona": to_persona,
                        "from_persona": from_persona,
                        "chatmode": chatmode,
                        "session": session,
                        "ts": self._clock(),
                    }
                )
            )
        )

    def record_token_usage(
        self,
        persona: str,
        chatmode: str,
        model: str,
        input_tokens: int = 0,
        output_tokens: int = 0,
        *,
        tokens: int | None = None,
    ) -> None:
        """Record token usage. ``tokens=`` (the seed API's single count) is taken as input."""
        if tokens is not None:
            if input_tokens or output_tokens:
                raise EventError("tokens", tokens, "give tokens= or input_tokens/output_tokens")
            input_tokens = tokens
        self.record(
            self._parsed(
                lambda: TokensUsed.parse(
                    {
                        "persona": persona,
                        "chatmode": chatmode,
                        "model": model,
                        "input_tokens": input_tokens,
                        "output_tokens": output_tokens,
                        "ts": self._clock(),
                    }
                )
            )
        )

    def record_workflow_stage(
        self,
        workflow: str,
        stage: str,
        persona: str,
        duration_seconds: float,
        quality_gate_passed: bool | None = None,
    ) -> None:
        """Record a finished stage; ``quality_gate_passed=None`` means no gate was checked."""
        self.record(
            self._parsed(
                lambda: StageFinished.parse(
                    {
                        "workflow": workflow,
                        "stage": stage,
                        "persona": persona,
                        "duration_seconds": duration_seconds,
                        "gate": quality_gate_passed,
                        "ts": self._clock(),
                    }
                )
            )
        )

    def record_llm_call(
        self,
        persona: str,
        model: str,
        duration_seconds: float,
        *,
        error_type: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        chatmode: str = "default",
    ) -> None:
        """Record one LLM call's latency and outcome, and its tokens when known."""
        self.record(
            self._parsed(
                lambda: LLMCallFinished.parse(
                    {
                        "persona": persona,
                        "model": model,
                        "duration_seconds": duration_seconds,
                        "error_type": error_type,
                        "ts": self._clock(),
                    }
                )
            )
        )
        if input_tokens is not None or output_tokens is not None:
            self.record_token_usage(persona, chatmode, model, input_tokens or 0, output_tokens or 0)

    # -- serving ------------------------------------------------------------

    def serve(self, port: int = DEFAULT_PORT, host: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` from this process in a daemon thread; returns the port."""
        if self._server is None:
            self._server = ExporterHTTPServer((host, port), self.registry)
            self._server.start_in_thread()
        return self._server.port

    def close(self) -> None:
        """Stop serving and the tailer (taking a final snapshot)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self.tailer is not None:
            self.tailer.stop()
        if self._journal is not None:
            self._journal.close()
            self._journal = None


_default: PersonaMetricsCollector | None = None
_default_lock = threading.Lock()


def get_persona_metrics_collector() -> PersonaMetricsCollector:
    """The process-wide collector, registered on prometheus_client's default registry."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PersonaMetricsCollector(REGISTRY)
        return _default
