"""No event is lost or double counted across concurrent CLIs and exporter crashes."""

import os
import signal
import subprocess
import sys

from harness.support import ExporterProcess, sample, wait_for

WORKERS = 8
PER_WORKER = 250

# One process per worker appends PER_WORKER events through the real CLI entry
# point, each append its own short-lived `main()` call with its own journal
# connection (a fresh interpreter per event would take minutes on 2 cores).
WORKER = """
import sys
from hypertool_exporter.cli.main import main
journal, worker, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(count):
    code = main(["tokens", f"persona-{worker}", "--model", "gpt-4", "--input", "3",
                 "--output", "1", "--journal", journal])
    assert code == 0, code
"""


def test_concurrent_appends_survive_two_sigkills(tmp_path, config_file):
    journal = tmp_path / "journal.sqlite"
    exporter = ExporterProcess(journal, config_file)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(journal), str(w), str(PER_WORKER)],
            env=os.environ.copy(),
        )
        for w in range(WORKERS)
    ]

    def applied(v):
        return sample(v, "hypertool_exporter_events_applied_total", type="tokens_used") or 0

    try:
        for _ in range(2):
            # Let some events land, then kill the exporter mid-stream and restart it.
            wait_for(lambda e=exporter: applied(e.scrape()) > 0, what="events to be applied")
            assert any(p.poll() is None for p in workers), "kill must land mid-stream"
            exporter.stop(signal.SIGKILL)
            exporter = ExporterProcess(journal, config_file, port=exporter.port)
        for proc in workers:
            assert proc.wait(240) == 0
        total = WORKERS * PER_WORKER
        values = exporter.scrape_when(
            lambda v: applied(v) == total,
            timeout=60,
            what=f"all {total} events to be applied",
        )
        for w in range(WORKERS):
            persona = f"persona-{w}"
            assert (
                sample(
                    values,
                    "hypertool_persona_tokens_used_total",
                    persona=persona,
                    chatmode="default",
                    model="gpt-4",
                    token_type="input",
                )
                == 3 * PER_WORKER
            )
            assert (
                sample(
                    values, "hypertool_persona_token_budget_used", persona=persona, period="monthly"
                )
                == 4 * PER_WORKER
            )
        assert sample(values, "hypertool_exporter_journal_lag_events") == 0
        assert applied(values) == total  # not one more: nothing was counted twice
    finally:
        for proc in workers:
            if proc.poll() is None:
                proc.kill()
        exporter.stop()
