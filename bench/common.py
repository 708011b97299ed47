"""Shared helpers for the benchmarks: timing, ratios, result rows."""

from __future__ import annotations

import compileall
import gc
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Result:
    """One benchmark line: a measured figure as a ratio to a same-run baseline."""

    name: str
    value: float
    baseline: float
    unit: str
    target: str
    passed: bool | None
    #: The range of the ratio over the rounds that were paired, when there
    #: were rounds: on a shared machine a single ratio hides how much it moves.
    spread: str = ""

    @property
    def ratio(self) -> float:
        return self.value / self.baseline if self.baseline else float("inf")


def as_installed() -> None:
    """Byte-compile the package, as ``pip install`` does: a start of the CLI
    or of ``serve`` then costs what an installed exporter's does (an editable
    checkout run with PYTHONDONTWRITEBYTECODE compiles every module at every
    start: slower, and 0.7 MiB more resident at idle). The baselines,
    installed packages, are compiled already."""
    import hypertool_exporter

    compileall.compile_dir(Path(hypertool_exporter.__file__).parent, quiet=1)


def spread_of(ours: Sequence[float], baselines: Sequence[float]) -> str:
    """The lowest and highest ratio of rounds run side by side (round ``i`` of
    each), as ``0.55-0.84x``."""
    ratios = [a / b for a, b in zip(ours, baselines, strict=True) if b]
    return f"{min(ratios):.2f}-{max(ratios):.2f}x" if ratios else ""


def interleaved_commands(
    commands: dict[str, Sequence[str]], rounds: int, env: dict | None = None
) -> dict[str, float]:
    """Median wall time (seconds) of each command, run in interleaved rounds so
    that machine noise hits all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, argv in commands.items():
            start = time.perf_counter()
            subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}


def visibility(name: str, sent: list[float], seen: dict[int, float]) -> Result:
    """The p99 of probe-to-visible delays against their p50: probe ``k`` (from 1)
    was sent at ``sent[k - 1]`` and first seen on ``/metrics`` at ``seen[k]``.
    Passes when p99 is at most 1 s and every probe was seen."""
    delays = sorted(seen[i + 1] - t for i, t in enumerate(sent) if i + 1 in seen)
    p50 = statistics.median(delays)
    p99 = delays[max(0, int(len(delays) * 0.99) - 1)]
    return Result(
        f"{name} p99 vs p50 ({len(delays)} probes)",
        p99,
        p50,
        "s",
        "p99 <= 1 s",
        p99 <= 1.0 and len(delays) == len(sent),
    )


def visibility_under_load(
    name: str,
    load: Callable[[], None],
    probe: Callable[[], None],
    visible: Callable[[], int],
    seconds: float,
) -> Result:
    """Probe-to-visible delays under load (``visibility``'s row): ``load()``, one
    batch of background load with its pause, runs in a thread until the probes
    end; ``probe()`` records one probe, every 100 ms for ``seconds``;
    ``visible()`` says how many probes ``/metrics`` shows, polled every 10 ms
    until all are seen (or 10 s after the last)."""
    stop = threading.Event()
    sent: list[float] = []
    seen: dict[int, float] = {}
    stopped = [0.0]

    def background() -> None:
        while not stop.is_set():
            load()

    def poll() -> None:
        while True:
            count = visible()
            now = time.perf_counter()
            for k in range(1, count + 1):
                seen.setdefault(k, now)
            if stop.is_set() and (len(seen) >= len(sent) or now - stopped[0] > 10):
                return
            time.sleep(0.01)

    threads = [threading.Thread(target=background), threading.Thread(target=poll)]
    for thread in threads:
        thread.start()
    try:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            probe()
            sent.append(time.perf_counter())
            time.sleep(0.1)
    finally:
        stopped[0] = time.perf_counter()
        stop.set()
        for thread in threads:
            thread.join(30)
    return visibility(name, sent, seen)


def per_call(fn: Callable[[], None], calls: int, repeats: int = 5) -> float:
    """Best-of-``repeats`` seconds per call of ``fn`` over ``calls`` calls."""
    best = float("inf")
    gc_was_enabled = gc.isenabled()
    gc.disable()  # as timeit does: collection pauses are noise here
    try:
        for _ in range(repeats):
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            best = min(best, (time.perf_counter() - start) / calls)
    finally:
        if gc_was_enabled:
            gc.enable()
    return best


def table(results: list[Result]) -> str:
    rows = [("benchmark", "value", "baseline", "ratio", "spread", "target", "ok")]
    for r in results:
        ok = "-" if r.passed is None else ("yes" if r.passed else "NO")
        rows.append(
            (
                r.name,
                f"{r.value:.4g} {r.unit}",
                f"{r.baseline:.4g} {r.unit}",
                f"{r.ratio:.2f}x",
                r.spread or "-",
                r.target,
                ok,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows
    )


def applied_tokens(metrics_text: str) -> float:
    """``tokens_used`` events applied, read from a /metrics body."""
    import re

    match = re.search(
        r'^hypertool_exporter_events_applied_total\{type="tokens_used"\} (\S+)$',
        metrics_text,
        re.M,
    )
    return float(match.group(1)) if match else 0.0
