"""``WorkflowTracer``: a span per workflow, a child span per stage, metrics per stage.

    with WorkflowTracer("package-release") as wf:
        with wf.stage("implement", "backend-engineer") as stage:
            code = write_code()              # LLM calls here nest under the stage span
            stage.passed = tests_pass(code)  # the quality-gate verdict
        wf.trace_stage("test", "testing-specialist", run_tests, code,
                       quality_gate=lambda report: report.ok)

Works the same with ``async with`` and async stage functions. A stage that
raises counts as a failed gate and the exception propagates. A stage with no
verdict records its duration and no gate. The run is recorded when the
``with`` block ends (``hypertool_workflow_runs_total``): failed when an
exception leaves it or a stage's gate failed. Every LLM call made inside a
stage (``ObservableLLM``, ``@observe_llm``, the Langfuse facade,
``record_token_usage``) is charged to that workflow and stage, with no
argument to pass (``hypertool_workflow_cost_usd_total``).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry.trace import Span, Status, StatusCode, set_span_in_context

from ..model.fields import EventError, gate_value
from . import tracing
from .collector import PersonaMetricsCollector, get_persona_metrics_collector

log = logging.getLogger(__name__)


class Stage:
    """The running stage: set ``passed`` (or call ``check``) to give the gate verdict."""

    def __init__(self, name: str, persona: str, span: Span):
        self.name = name
        self.persona = persona
        self.span = span
        self.passed: bool | None = None

    def check(self, result: Any, predicate: Callable[[Any], bool]) -> Any:
        """Set the verdict from ``predicate(result)``; returns ``result``."""
        self.passed = bool(predicate(result))
        return result


class WorkflowTracer:
    """Traces one workflow run; stage metrics go through the collector."""

    def __init__(
        self,
        name: str,
        *,
        persona: str | None = None,
        chatmode: str | None = None,
        collector: PersonaMetricsCollector | None = None,
    ):

        self.name = name
        self.persona = persona
        self.chatmode = chatmode
        self.collector = collector or get_persona_metrics_collector()
        self.span: Span | None = None
        self._span_cm: Any = None
        self._tokens: list[Any] = []
        self._identified = False
        self._started: float | None = None
        #: Whether a stage's gate failed in this run (the run fails with it).
        self.gate_failed = False

    # -- the workflow span -------------------------------------------------

    def __enter__(self) -> WorkflowTracer:
        attributes = {
            "hypertool.workflow.name": self.name,
            "gen_ai.operation.name": "invoke_workflow",
            # Langfuse: the trace is named after the workflow and tagged with it.
            "langfuse.trace.name": self.name,
            "langfuse.trace.tags": (self.name,),
        }
        self._tokens = [
            tracing.current_persona.set(self.persona or tracing.current_persona.get()),
            tracing.current_chatmode.set(self.chatmode or tracing.current_chatmode.get()),
        ]
        self._identified = bool(self.persona)
        self._span_cm = tracing.get_tracer().start_as_current_span(
            f"workflow {self.name}",
            attributes=attributes,
            record_exception=True,
            set_status_on_exception=True,
        )
        self.span = self._span_cm.__enter__()
        self._started = time.perf_counter()
        self.gate_failed = False
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        trace_id = tracing.trace_id_of(self.span) if self.span is not None else None
        try:
            self._span_cm.__exit__(exc_type, exc, tb)
        finally:
            tracing.current_chatmode.reset(self._tokens[1])
            tracing.current_persona.reset(self._tokens[0])
            if self._started is not None:
                seconds = time.perf_counter() - self._started
                succeeded = exc is None and not self.gate_failed
                try:
                    self.collector.record_workflow_run(
                        self.name, succeeded, seconds, persona=self.persona, trace_id=trace_id
                    )
                except EventError as error:  # never break the workflow over its metrics
                    log.warning("workflow run not recorded: %s", error)
                self._started = None

    async def __aenter__(self) -> WorkflowTracer:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)

    # -- stages --------------------------------------------------------------

    @contextmanager
    def stage(
        self,
        stage_name: str,
        persona: str,
        *,
        chatmode: str | None = None,
        passed: bool | None = None,
    ) -> Iterator[Stage]:
        """Run a stage as the current span; record its duration and gate verdict."""
        chatmode = chatmode or tracing.current_chatmode.get()
        if not self._identified and self.span is not None:
            # Langfuse reads user and session from every span of a trace: give
            # the workflow span the persona of its first stage.
            self.span.set_attributes(tracing.identity_attributes(persona, chatmode))
            self._identified = True
        persona_token = tracing.current_persona.set(persona)
        chatmode_token = tracing.current_chatmode.set(chatmode)
        stage_token = tracing.enter_stage(self.name, stage_name)
        # Few attributes: the SDK validates each one, at about 3 us apiece.
        attributes = {
            "hypertool.stage.name": stage_name,
            "hypertool.workflow.name": self.name,  # so a remote exporter can count the stage
            "langfuse.trace.tags": (self.name, stage_name),  # Langfuse merges a trace's tags
            **tracing.identity_attributes(persona, chatmode),
        }
        started = time.perf_counter()
        # start_span + attach rather than start_as_current_span: two fewer
        # generator-based context managers on a path measured in microseconds.
        span = tracing.get_tracer().start_span(f"stage {stage_name}", attributes=attributes)
        context_token = otel_context.attach(set_span_in_context(span))
        handle = Stage(stage_name, persona, span)
        handle.passed = passed
        error: BaseException | None = None
        try:
            yield handle
        except BaseException as exc:
            error = exc
            handle.passed = False
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"[:200]))
            raise
        finally:
            if handle.passed is not None:
                span.set_attribute(
                    "hypertool.quality_gate.result", gate_value("gate", handle.passed)
                )
            if handle.passed is False and error is None:
                span.set_status(Status(StatusCode.ERROR, "quality gate failed"))
            trace_id = tracing.trace_id_of(span)
            span.end()
            otel_context.detach(context_token)
            tracing.leave_stage(stage_token)
            tracing.current_chatmode.reset(chatmode_token)
            tracing.current_persona.reset(persona_token)
            if handle.passed is False:
                self.gate_failed = True
            self._record(
                stage_name, persona, time.perf_counter() - started, handle.passed, trace_id
            )

    def trace_stage(
        self,
        stage_name: str,
        persona: str,
        func: Callable[..., Any],
        *args: Any,
        quality_gate: Callable[[Any], bool] | None = None,
        passed: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Run ``func(*args, **kwargs)`` as a stage and return its result.

        For an async ``func`` this returns an awaitable. ``quality_gate`` checks
        the result for the verdict; ``passed`` gives it directly.
        """
        if inspect.iscoroutinefunction(func):
            return self._atrace_stage(stage_name, persona, func, args, kwargs, quality_gate, passed)
        with self.stage(stage_name, persona, passed=passed) as stage:
            result = func(*args, **kwargs)
            if quality_gate is not None:
                stage.check(result, quality_gate)
            return result

    async def _atrace_stage(
        self,
        stage_name: str,
        persona: str,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        quality_gate: Callable[[Any], bool] | None,
        passed: bool | None,
    ) -> Any:
        with self.stage(stage_name, persona, passed=passed) as stage:
            result = await func(*args, **kwargs)
            if quality_gate is not None:
                stage.check(result, quality_gate)
            return result

    def _record(
        self,
        stage_name: str,
        persona: str,
        seconds: float,
        passed: bool | None,
        trace_id: str | None,
    ) -> None:
        try:
            self.collector.record_workflow_stage(
                self.name, stage_name, persona, seconds, passed, trace_id=trace_id
            )
        except EventError as exc:  # never break the workflow over its metrics
            log.warning("stage not recorded: %s", exc)


__all__ = ["Stage", "WorkflowTracer"]
