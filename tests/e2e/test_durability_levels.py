"""``journal.durability``: what a journalled in-process collector's recorded
event survives, level by level, checked with SIGKILL (docs/reliability.md).

An app records events as fast as it can and says, every few calls, how many
have returned. It is killed mid-stream. The journal then holds a prefix of
its events, in order (never a gap, never a torn file), and:

- ``process`` and ``power``: every event whose call returned;
- ``buffered``: all but at most the last window (the events of about the
  last two ``buffer.DEFAULT_INTERVAL`` ticks, never more than two batches of
  ``DEFAULT_BATCH``: one waiting, one being committed); and every one once
  the app exits cleanly, flushes, or simply waits a moment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from harness.support import wait_for

from hypertool_exporter.journal.buffer import DEFAULT_BATCH
from hypertool_exporter.journal.store import Journal

APP = """
import sys
from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.model.config import parse_config

journal, level, mode = sys.argv[1], sys.argv[2], sys.argv[3]
collector = PersonaMetricsCollector(
    config=parse_config(f"journal: {{durability: {level}}}\\n"), journal=journal
)
if mode == "stream":  # until killed; say how many calls returned
    i = 0
    while True:
        collector.record_token_usage("p", "default", "gpt-4", i, 1)
        i += 1
        if i % 50 == 0:
            print(i, flush=True)
elif mode == "exit":  # a clean exit, no flush or close: the atexit hook commits
    for i in range(1000):
        collector.record_token_usage("p", "default", "gpt-4", i, 1)
elif mode == "wait":  # recorded, then idle: the flusher commits without being asked
    for i in range(500):
        collector.record_token_usage("p", "default", "gpt-4", i, 1)
    print("recorded", flush=True)
    sys.stdin.read()
"""


def journal_inputs(path) -> list[int]:
    """The input token counts of the journal's events, in journal order."""
    inputs: list[int] = []
    with Journal(path, create=False) as journal:
        last = 0
        while rows := journal.read_after(last):
            events, rejected = journal.events_of(rows)
            assert not rejected
            inputs += [event.input_tokens for event in events]
            last = rows[-1][0]
    return inputs


def start(tmp_path, level: str, mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", APP, str(tmp_path / "journal.sqlite"), level, mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )


@pytest.mark.parametrize("level", ["buffered", "process", "power"])
def test_sigkill_loses_nothing_acknowledged_beyond_the_levels_window(tmp_path, level):
    app = start(tmp_path, level, "stream")
    acknowledged = 0
    assert app.stdout is not None
    while acknowledged < 3000:  # well past a batch and many flush intervals
        line = app.stdout.readline()
        assert line, "the app stopped before it was killed"
        acknowledged = int(line)
    app.send_signal(signal.SIGKILL)
    app.wait(30)
    inputs = journal_inputs(tmp_path / "journal.sqlite")
    assert inputs == list(range(len(inputs)))  # a prefix, in order: no gap
    if level == "buffered":
        assert len(inputs) >= acknowledged - 2 * DEFAULT_BATCH  # waiting, and in flight
    else:
        assert len(inputs) >= acknowledged


@pytest.mark.parametrize("mode", ["exit", "wait"])
def test_buffered_events_are_committed_at_exit_and_without_being_asked(tmp_path, mode):
    app = start(tmp_path, "buffered", mode)
    path = tmp_path / "journal.sqlite"
    if mode == "exit":
        assert app.wait(60) == 0
        assert journal_inputs(path) == list(range(1000))
        return
    assert app.stdout is not None and app.stdout.readline() == "recorded\n"
    try:
        wait_for(lambda: len(journal_inputs(path)) == 500, 10, "the flusher to commit")
        assert app.poll() is None  # committed while the app still runs
    finally:
        app.kill()
        app.wait(30)
