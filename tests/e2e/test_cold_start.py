"""A journal filled before any ``serve`` ran: the first start replays it whole,
a long backlog on two cores with a helper process (split by kind,
``sync.splitter``, or read by the helper and ``serve`` together,
``sync.replayer``: which, the replay works out from the kinds' costs)."""

import contextlib
import sqlite3

from harness.support import ExporterProcess, sample

from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model.cores import cores
from hypertool_exporter.model.events import LLMCallFinished, TokensUsed
from hypertool_exporter.sync.replayer import HELPER_FROM


def test_serve_replays_a_long_journal_without_a_snapshot(tmp_path, config_file):
    journal = tmp_path / "journal.sqlite"
    calls = HELPER_FROM  # two events each: a backlog worth a helper
    with Journal(journal) as writer:
        for start in range(0, calls, 10_000):
            batch = []
            for n in range(start, start + 10_000):
                ts = 1_700_000_000.0 + n
                batch.append(TokensUsed(f"persona-{n % 5}", "gpt-4o", 100, n % 50, "code", ts))
                batch.append(LLMCallFinished(f"persona-{n % 5}", "gpt-4o", 0.25, None, ts))
            writer.append(batch)
    with contextlib.closing(sqlite3.connect(journal)) as db, db:  # a damaged row
        db.execute("INSERT INTO events (ts, kind, body) VALUES (1, 2, '[not json')")
    exporter = ExporterProcess(journal, config_file)
    try:
        values = exporter.scrape_when(
            lambda v: (
                sample(v, "hypertool_exporter_events_applied_total", type="llm_call_finished")
                == calls
            ),
            timeout=120,
            what=f"all {2 * calls} events to be applied",
        )
        log = exporter.log.read_text()
        # On two cores or more the replay has a helper process; on one (a
        # container's CPU limit counts), the two would take turns, and the
        # replay goes alone.
        helped = "in two processes" in log or "with a helper process" in log
        assert helped == (cores() >= 2)
        assert f"replayed journal rows 1-{2 * calls + 1} in" in log
        assert (
            sample(values, "hypertool_exporter_events_applied_total", type="tokens_used") == calls
        )
        assert sample(values, "hypertool_exporter_events_rejected_total", reason="malformed") == 1
        output = sum(
            sample(values, "hypertool_persona_tokens_used_total", persona=f"persona-{p}",
                   chatmode="code", model="gpt-4o", token_type="output") or 0
            for p in range(5)
        )  # fmt: skip
        assert output == sum(n % 50 for n in range(calls))
        count = sum(
            sample(values, "hypertool_llm_request_duration_seconds_count",
                   persona=f"persona-{p}", model="gpt-4o") or 0
            for p in range(5)
        )  # fmt: skip
        assert count == calls
    finally:
        exporter.stop()
