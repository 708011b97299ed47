"""``hypertool-exporter demo``: an exporter fed with realistic persona traffic.

Simulated agent sessions run multi-stage workflows (the package-release flow
backend-engineer -> testing-specialist -> devops-engineer, and others) with
LLM calls, token spend against budgets that run low, failing gates, slow
stages and LLM errors, so every dashboard panel and alert has data.

Each session keeps a virtual clock that starts an hour in the past and never
runs ahead of real time: persona durations and budgets look like a real
day's, and after the first burst traffic continues at a realistic pace.
"""

from __future__ import annotations

import random
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import Config, parse_config
from .events import Event, LLMCallFinished, PersonaSwitched, StageFinished, TokensUsed
from .journal import Journal

DEMO_CONFIG = """
budgets:
  default: {tokens: 20000000, period: monthly}
  backend-engineer: {tokens: 3000000, usd: 40, period: daily}
  testing-specialist: {tokens: 600000, period: daily}
  devops-engineer: {tokens: 5000000, period: weekly}
  security-auditor: {tokens: 150000000, period: total}
pricing:
  gpt-4: {input: 0.03, output: 0.06}
"""


@dataclass(frozen=True)
class Stage:
    name: str
    persona: str
    chatmode: str
    seconds: tuple[float, float]
    gate_failure: float
    slow_chance: float = 0.0


WORKFLOWS: dict[str, tuple[Stage, ...]] = {
    "package-release": (
        Stage("implement", "backend-engineer", "implement", (30, 240), 0.05),
        Stage("test", "testing-specialist", "test", (20, 180), 0.25),
        Stage("deploy", "devops-engineer", "deploy", (10, 120), 0.05, slow_chance=0.15),
    ),
    "code-review": (
        Stage("review", "security-auditor", "review", (15, 90), 0.10),
        Stage("fix", "backend-engineer", "debug", (20, 200), 0.02),
    ),
    "incident-response": (
        Stage("triage", "devops-engineer", "debug", (5, 60), 0.02),
        Stage("fix", "backend-engineer", "debug", (30, 300), 0.08, slow_chance=0.10),
        Stage("verify", "testing-specialist", "test", (10, 90), 0.15),
    ),
}
MODELS = (
    ("gpt-4o", 0.45),
    ("claude-sonnet-4", 0.30),
    ("gpt-4o-mini", 0.20),
    ("local-llama-3", 0.05),
)
ERRORS = ("rate_limit", "timeout", "server_error")


class TrafficGenerator:
    """Produces events for simulated sessions; deterministic for a given seed."""

    def __init__(self, seed: int = 7, sessions: int = 24, now: float | None = None):
        self.random = random.Random(seed)
        start = (time.time() if now is None else now) - 3600.0
        self.clocks = {
            f"agent-{i + 1}": start + self.random.uniform(0, 600) for i in range(sessions)
        }

    def _model(self) -> str:
        pick, acc = self.random.random(), 0.0
        for model, weight in MODELS:
            acc += weight
            if pick <= acc:
                return model
        return MODELS[0][0]

    def run_workflow(self, session: str) -> list[Event]:
        """One workflow run in ``session``, advancing its virtual clock."""
        rnd = self.random
        name = rnd.choice(list(WORKFLOWS))
        ts = self.clocks[session]
        events: list[Event] = []
        for stage in WORKFLOWS[name]:
            events.append(PersonaSwitched(stage.persona, stage.chatmode, None, session, ts))
            seconds = rnd.uniform(*stage.seconds)
            if rnd.random() < stage.slow_chance:
                seconds = rnd.uniform(320, 900)
            for _ in range(rnd.randint(1, 3)):
                model = self._model()
                latency = rnd.lognormvariate(0.3, 0.7)
                error = rnd.choice(ERRORS) if rnd.random() < 0.06 else None
                call_ts = ts + rnd.uniform(0, seconds)
                events.append(
                    LLMCallFinished(stage.persona, model, min(latency, 120.0), error, call_ts)
                )
                if error is None:
                    events.append(
                        TokensUsed(
                            stage.persona,
                            model,
                            rnd.randint(400, 6000),
                            rnd.randint(80, 1500),
                            stage.chatmode,
                            call_ts,
                        )
                    )
            ts += seconds
            gate = "failed" if rnd.random() < stage.gate_failure else "passed"
            events.append(StageFinished(name, stage.name, stage.persona, seconds, gate, ts))
        self.clocks[session] = ts + rnd.uniform(5, 60)
        return events

    def due(self, now: float, limit: int) -> list[Event]:
        """Runs of every session whose virtual clock has not passed ``now`` (at most ``limit``)."""
        events: list[Event] = []
        for session in sorted(self.clocks, key=self.clocks.get)[:limit]:
            if self.clocks[session] <= now:
                events.extend(self.run_workflow(session))
        return events


def run_demo(args, port: int, load_config: Callable[[str | None], Config]) -> int:
    """Serve /metrics in a thread and feed it demo traffic until stopped."""
    from .serve import run_server

    config = load_config(args.config) if args.config else parse_config(DEMO_CONFIG, "<demo>")
    journal_path = (
        Path(args.journal)
        if args.journal
        else Path(tempfile.mkdtemp(prefix="hypertool-demo-")) / "journal.sqlite"
    )
    duration = float(args.duration)
    rate = max(0.1, float(args.rate))
    stop, ready = threading.Event(), threading.Event()
    server = threading.Thread(
        target=run_server,
        args=(config, args.host, port, str(journal_path)),
        kwargs={"ready": ready, "stop": stop},
        daemon=True,
    )
    server.start()
    if not ready.wait(15):
        print("hypertool-exporter: error: the demo exporter did not start", file=sys.stderr)
        return 1
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"demo: metrics at http://{args.host}:{port}/metrics, journal {journal_path}", flush=True)
    generator = TrafficGenerator()
    deadline = time.monotonic() + duration if duration > 0 else None
    with Journal(journal_path) as journal:
        while not stop.is_set():
            events = generator.due(time.time(), limit=max(1, int(rate)))
            if events:
                journal.append(events)
            if deadline is not None and time.monotonic() >= deadline:
                break
            stop.wait(1.0)
    stop.set()
    server.join(15)
    return 0
