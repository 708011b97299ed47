"""CLI record latency: `hypertool-exporter tokens ...` against `python -c pass`.

The package is byte-compiled first, as `pip install` does, so the figure is
what an installed CLI costs (an editable checkout with
PYTHONDONTWRITEBYTECODE would recompile every module on every run).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from common import Result, as_installed, interleaved_commands
from harness.support import EXAMPLE_TOKENS

TARGET = 2.2


def run(quick: bool = False) -> list[Result]:
    as_installed()
    script = shutil.which("hypertool-exporter", path=str(Path(sys.executable).parent))
    assert script, "hypertool-exporter is not installed next to this Python"
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HYPERTOOL_JOURNAL": str(Path(tmp) / "journal.sqlite")}
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "tokens": [script, *EXAMPLE_TOKENS],
        }
        interleaved_commands(commands, 2, env)  # warm the page cache and the journal
        medians = interleaved_commands(commands, 10 if quick else 40, env)
    ratio = medians["tokens"] / medians["python -c pass"]
    return [
        Result(
            "cli: tokens vs python -c pass",
            medians["tokens"] * 1000,
            medians["python -c pass"] * 1000,
            "ms",
            f"<= {TARGET}x",
            ratio <= TARGET,
        )
    ]
