"""``hypertool-exporter demo``: an exporter fed with realistic persona traffic.

Simulated agent sessions run multi-stage workflows (the package-release flow
backend-engineer -> testing-specialist -> devops-engineer, and others) with
LLM calls, token spend against budgets that run low, failing gates, slow
stages and LLM errors, so every dashboard panel and alert has data.

It starts with an hour of history (so budgets are already partly spent),
then keeps ``--rate`` workflow runs per second coming.
"""

from __future__ import annotations

import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from ..journal.store import Journal
from ..model.config import Config, parse_config
from ..model.events import (
    Event,
    LLMCallFinished,
    PersonaSwitched,
    QualityScored,
    StageFinished,
    TokensUsed,
    ToolCallFinished,
    WorkflowRunFinished,
)
from ..model.fields import FAILED, PASSED, SUCCEEDED
from .options import Command

DEMO_CONFIG = """
budgets:
  default: {tokens: 20000000, period: monthly}
  backend-engineer: {tokens: 6000000, usd: 60, period: daily}
  testing-specialist: {tokens: 1500000, period: daily}
  devops-engineer: {tokens: 40000000, period: weekly}
  security-auditor: {tokens: 150000000, usd: 2000, period: monthly, scope: fleet}
pricing:
  gpt-4: {input: 0.03, output: 0.06}
"""


@dataclass(frozen=True)
class StagePlan:
    """A simulated stage: who runs it, how long it takes, how often its gate fails."""

    name: str
    persona: str
    chatmode: str
    seconds: tuple[float, float]
    gate_failure: float
    slow_chance: float = 0.0


WORKFLOWS: dict[str, tuple[StagePlan, ...]] = {
    "package-release": (
        StagePlan("implement", "backend-engineer", "implement", (30, 240), 0.05),
        StagePlan("test", "testing-specialist", "test", (20, 180), 0.25),
        StagePlan("deploy", "devops-engineer", "deploy", (10, 120), 0.05, slow_chance=0.15),
    ),
    "code-review": (
        StagePlan("review", "security-auditor", "review", (15, 90), 0.10),
        StagePlan("fix", "backend-engineer", "debug", (20, 200), 0.02),
    ),
    "incident-response": (
        StagePlan("triage", "devops-engineer", "debug", (5, 60), 0.02),
        StagePlan("fix", "backend-engineer", "debug", (30, 300), 0.08, slow_chance=0.10),
        StagePlan("verify", "testing-specialist", "test", (10, 90), 0.15),
    ),
}
MODELS = (
    ("gpt-4o", 0.40),
    ("claude-sonnet-4", 0.25),
    ("gpt-4o-mini", 0.15),
    ("o4-mini", 0.08),
    ("llama-3.1-70b", 0.07),
    ("local-llama-3", 0.05),
)
#: Models whose provider reports the cost of each call (an OpenRouter route):
#: USD per 1,000 tokens, the figure the demo "reports".
REPORTED_COST = {"llama-3.1-70b": 0.0004}
#: Models that think before they answer: share of the output spent reasoning.
REASONING_SHARE = {"o4-mini": 0.7}
ERRORS = ("rate_limit", "timeout", "server_error")
#: The tools each persona's agent calls, and how often one fails.
TOOLS = {
    "backend-engineer": ("read_file", "edit_file", "run_tests"),
    "testing-specialist": ("run_tests", "coverage_report"),
    "devops-engineer": ("kubectl", "helm_upgrade", "read_logs"),
    "security-auditor": ("dependency_scan", "read_file"),
}
TOOL_FAILURE = 0.08
#: Runs of history written at start, spread over the last hour.
BACKLOG_RUNS = 300
TICK_SECONDS = 0.5


class TrafficGenerator:
    """Produces events for simulated agent sessions; deterministic for a given seed.

    Each workflow run is placed so that it ends now (or, for the backlog, at
    a point of the last hour) and runs in a session that is free at its
    start, so each session's switches stay in time order and persona
    durations come out as long as the stages were.
    """

    def __init__(self, seed: int = 7):
        self.random = random.Random(seed)
        #: Whether a call streamed and how soon its first chunk came: drawn
        #: apart, so the rest of the traffic is the same as without streams.
        self.streams = random.Random(seed + 1)
        #: Tool calls and quality scores: drawn apart too, for the same reason.
        self.work = random.Random(seed + 2)
        #: session -> time its last run ended
        self.sessions: dict[str, float] = {}

    def _model(self) -> str:
        pick, acc = self.random.random(), 0.0
        for model, weight in MODELS:
            acc += weight
            if pick <= acc:
                return model
        return MODELS[0][0]

    def _session(self, start: float) -> str:
        for session, free_at in self.sessions.items():
            if free_at <= start:
                return session
        session = f"agent-{len(self.sessions) + 1}"
        self.sessions[session] = start
        return session

    def run_workflow(self, end: float) -> list[Event]:
        """One workflow run ending at ``end``."""
        rnd = self.random
        name = rnd.choice(list(WORKFLOWS))
        durations = []
        for stage in WORKFLOWS[name]:
            seconds = rnd.uniform(*stage.seconds)
            if rnd.random() < stage.slow_chance:
                seconds = rnd.uniform(320, 900)
            durations.append(seconds)
        ts = end - sum(durations)
        session = self._session(ts)
        events: list[Event] = []
        for stage, seconds in zip(WORKFLOWS[name], durations, strict=True):
            events.append(PersonaSwitched(stage.persona, stage.chatmode, None, session, ts))
            for _ in range(rnd.randint(1, 3)):
                model = self._model()
                latency = min(rnd.lognormvariate(0.3, 0.7), 120.0)
                error = rnd.choice(ERRORS) if rnd.random() < 0.06 else None
                call_ts = ts + rnd.uniform(0, seconds)
                ttft = None
                if error is None and self.streams.random() < 0.6:  # a streamed answer
                    ttft = round(latency * self.streams.uniform(0.05, 0.3), 4)
                events.append(
                    LLMCallFinished(
                        stage.persona, model, latency, error, call_ts, ttft_seconds=ttft
                    )
                )
                if error is None:
                    events.append(self._tokens(name, stage, model, call_ts))
            events.extend(self._tool_calls(stage, ts, seconds))
            ts += seconds
            gate = FAILED if rnd.random() < stage.gate_failure else PASSED
            events.append(StageFinished(name, stage.name, stage.persona, seconds, gate, ts))
            # The gate's reviewer scores the stage's output too.
            mean = 0.8 if gate == PASSED else 0.4
            score = round(min(1.0, max(0.0, self.work.gauss(mean, 0.1))), 3)
            events.append(QualityScored(stage.persona, "stage-review", score, gate, ts))
        failed = any(isinstance(e, StageFinished) and e.gate == FAILED for e in events)
        result = FAILED if failed else SUCCEEDED
        events.append(WorkflowRunFinished(name, result, sum(durations), None, ts))
        # The session ends in its last persona; the next run there switches away.
        self.sessions[session] = ts
        return events

    def _tool_calls(self, stage: StagePlan, start: float, seconds: float) -> list[Event]:
        """The tools the stage's agent called while it ran."""
        work = self.work
        calls: list[Event] = []
        for _ in range(work.randint(0, 3)):
            tool = work.choice(TOOLS[stage.persona])
            error = "ToolError" if work.random() < TOOL_FAILURE else None
            took = min(work.lognormvariate(-0.5, 1.0), 30.0)
            calls.append(
                ToolCallFinished(stage.persona, tool, took, error, start + work.uniform(0, seconds))
            )
        return calls

    def _tokens(self, workflow: str, stage: StagePlan, model: str, ts: float) -> TokensUsed:
        """One call's usage: prompts re-read from the provider's cache more often
        than not (written to it first, for Anthropic), reasoning for o4-mini, and
        a provider-reported cost for the routed model."""
        rnd = self.random
        prompt, output = rnd.randint(400, 6000), rnd.randint(80, 1500)
        cache_read = int(prompt * rnd.uniform(0.3, 0.8)) if rnd.random() < 0.6 else 0
        cache_write = int((prompt - cache_read) * 0.5) if model.startswith("claude") else 0
        reasoning = int(output * REASONING_SHARE.get(model, 0.0))
        rate = REPORTED_COST.get(model)
        cost = None if rate is None else round((prompt + output) * rate / 1000, 8)
        return TokensUsed(
            stage.persona,
            model,
            prompt,
            output,
            stage.chatmode,
            ts,
            None,
            cache_read,
            cache_write,
            reasoning,
            cost,
            workflow=workflow,
            stage=stage.name,
        )

    def backlog(self, now: float, runs: int) -> list[Event]:
        """``runs`` runs spread over the hour before ``now``."""
        ends = sorted(now - self.random.uniform(0, 3600) for _ in range(runs))
        events: list[Event] = []
        for end in ends:
            events.extend(self.run_workflow(end))
        return events

    def tick(self, now: float, runs: int) -> list[Event]:
        """``runs`` runs ending at ``now``."""
        events: list[Event] = []
        for _ in range(runs):
            events.extend(self.run_workflow(now))
        return events


def run(command: Command, values: dict[Any, Any]) -> int:
    """``demo``: serve /metrics in a thread and feed it demo traffic until stopped."""
    from .main import load_config_or_exit, port_value

    args = SimpleNamespace(**values)
    port = port_value(args.port)
    config = (
        load_config_or_exit(args.config) if args.config else parse_config(DEMO_CONFIG, "<demo>")
    )
    # Everything the demo makes (a journal unless one is given, the stack's
    # configs and data) lives here and is removed at exit, unless --keep.
    workdir = Path(tempfile.mkdtemp(prefix="hypertool-demo-"))
    journal_path = Path(args.journal) if args.journal else workdir / "journal.sqlite"
    try:
        return _run(args, port, config, workdir, journal_path)
    finally:
        if args.keep:
            print(f"kept {workdir}", flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _run(
    args: SimpleNamespace, port: int, config: Config, workdir: Path, journal_path: Path
) -> int:
    from ..app import Ready, run_server

    duration = float(args.duration)
    rate = max(0.1, float(args.rate))
    stop = threading.Event()

    def start(port: int) -> tuple[threading.Thread, Ready]:
        ready = Ready()
        thread = threading.Thread(
            target=run_server,
            args=(config, args.host, port, str(journal_path)),
            kwargs={"ready": ready, "stop": stop},
            daemon=True,
        )
        thread.start()
        ready.wait(60)
        return thread, ready

    server, ready = start(port)
    if ready.error is not None and port != 0:  # taken: a demo runs on any port
        print(
            f"port {port} is taken (--port or HYPERTOOL_PORT picks another); "
            "serving the demo on a free port instead",
            flush=True,
        )
        server.join(15)
        server, ready = start(0)
    if not ready.is_set() or ready.error is not None:
        why = ready.error or "it did not answer within a minute"
        print(f"hypertool-exporter: error: the demo exporter did not start: {why}", file=sys.stderr)
        return 1
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    port = ready.port  # the one the kernel picked, for --port 0
    stack = None
    urls = {
        "Status page": f"http://{args.host}:{port}/",
        "Exporter metrics": f"http://{args.host}:{port}/metrics",
    }
    if args.stack:
        from .demo_stack import start_stack

        stack = start_stack(
            workdir / "stack",
            f"{args.host}:{port}",
            args.host,
            int(args.prometheus_port),
            int(args.alertmanager_port),
        )
        urls.update(stack.urls)
    generator = TrafficGenerator()
    print(f"seeding an hour of history: {BACKLOG_RUNS} workflow runs ...", end=" ", flush=True)
    backlog = generator.backlog(time.time(), BACKLOG_RUNS)
    with Journal(journal_path) as journal:
        journal.append(backlog)
    print(f"done ({len(backlog):,} events)", flush=True)
    print("hypertool demo running; open:", flush=True)
    for name, url in urls.items():
        print(f"  {name:18s} {url}", flush=True)
    for note in stack.notes if stack else ():
        print(f"  note: {note}", flush=True)
    print(f"  journal            {journal_path}", flush=True)
    print("Stop with Ctrl-C.", flush=True)
    deadline = time.monotonic() + duration if duration > 0 else None
    owed = 0.0
    with Journal(journal_path) as journal:
        while not stop.wait(TICK_SECONDS):
            owed += rate * TICK_SECONDS
            runs, owed = int(owed), owed - int(owed)
            if runs:
                journal.append(generator.tick(time.time(), runs))
            if deadline is not None and time.monotonic() >= deadline:
                break
    stop.set()
    if stack is not None:
        stack.stop()
    server.join(15)
    return 0


__all__ = ["BACKLOG_RUNS", "DEMO_CONFIG", "WORKFLOWS", "StagePlan", "TrafficGenerator", "run"]
