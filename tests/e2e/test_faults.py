"""Faults: full and read-only disks, a corrupted journal, SIGKILL during ingest,
and scrapes racing heavy ingest. Nothing acknowledged is lost or counted twice."""

import http.client
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from harness.support import CLI, ExporterProcess, http_get, run_cli, sample, samples, wait_for

from hypertool_exporter.journal.store import Journal

TOKEN = "fault-test-token-0123456789"


def journal_rows(path) -> int:
    with Journal(path) as journal:
        return journal.query("SELECT count(*) FROM events")[0][0]


def test_full_disk_fails_loudly_and_keeps_what_was_recorded(tmp_path):
    journal = tmp_path / "journal.sqlite"
    run_cli("tokens", "qa", "--model", "gpt-4", "--input", "5", "--journal", str(journal))

    def tiny_disk():  # every write past 2 KiB fails with EFBIG, as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (2048, 2048))

    result = subprocess.run(
        [*CLI, "tokens", "qa", "--model", "gpt-4", "--input", "7", "--journal", str(journal)],
        capture_output=True,
        text=True,
        preexec_fn=tiny_disk,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert "event NOT recorded" in result.stderr
    assert "full" in result.stderr.lower() or "too large" in result.stderr.lower()
    assert journal_rows(journal) == 1  # the earlier event is intact


def test_read_only_disk_fails_loudly(tmp_path):
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the read-only disk test needs root to mount a file system")
        pytest.skip("needs root to mount a read-only file system")
    mount = tmp_path / "ro"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)]).returncode:
        pytest.fail("cannot mount a tmpfs")
    try:
        journal = mount / "journal.sqlite"
        run_cli("switch", "qa", "--journal", str(journal))
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        result = run_cli("switch", "dev", "--journal", str(journal), check=False)
        assert result.returncode == 1
        assert "event NOT recorded" in result.stderr
    finally:
        subprocess.run(["umount", str(mount)])


def test_corrupted_journal_keeps_the_exporter_serving(tmp_path):
    journal = tmp_path / "journal.sqlite"
    journal.write_bytes(b"this is not a database, just garbage " * 100)
    exporter = ExporterProcess(journal)
    try:
        values = exporter.scrape()
        assert sample(values, "hypertool_exporter_journal_up") == 0
        assert sample(values, "hypertool_exporter_journal_errors_total") >= 1
        assert "journal unusable" in exporter.log.read_text()
        # Replace it with a good journal: the exporter recovers by itself.
        journal.unlink()
        run_cli("tokens", "qa", "--model", "gpt-4", "--input", "9", "--journal", str(journal))
        values = exporter.scrape_when(
            lambda v: sample(v, "hypertool_exporter_journal_up") == 1,
            timeout=30,
            what="the exporter to reopen the journal",
        )
        wait_for(
            lambda: (
                sample(
                    exporter.scrape(),
                    "hypertool_persona_tokens_used_total",
                    persona="qa",
                    chatmode="default",
                    model="gpt-4",
                    token_type="input",
                )
                == 9
            ),
            what="the new event",
        )
    finally:
        exporter.stop()


def post(port, body) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/events",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_sigkill_during_ingest_loses_nothing_acknowledged(tmp_path):
    journal = tmp_path / "journal.sqlite"
    env = {"HYPERTOOL_INGEST_TOKEN": TOKEN}
    exporter = ExporterProcess(journal, env=env)
    port = exporter.port
    acked: list[int] = []
    stop = threading.Event()

    def client(worker: int) -> None:
        batch_no = 0
        while not stop.is_set():
            batch_id = worker * 100_000 + batch_no
            batch = [
                {
                    "type": "tokens_used",
                    "persona": f"batch-{batch_id}",
                    "model": "m",
                    "input_tokens": 1,
                }
                for _ in range(5)
            ]
            try:
                if post(port, batch) == 202:
                    acked.append(batch_id)
            except (OSError, http.client.HTTPException):
                pass  # the exporter is down, or was killed mid-answer: not acknowledged
            batch_no += 1

    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    try:
        wait_for(lambda: len(acked) > 20, what="some acknowledged batches")
        exporter.stop(signal.SIGKILL)
        exporter = ExporterProcess(journal, env=env, port=port)
        wait_for(lambda: len(acked) > 60, what="batches after the restart")
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    try:
        with Journal(journal) as j:
            total = j.last_id()
        values = exporter.scrape_when(
            lambda v: (
                sample(v, "hypertool_exporter_events_applied_total", type="tokens_used") == total
            ),
            what="every journalled event to be applied",
        )
    finally:
        exporter.stop()
    per_batch = {}
    for (name, labels), value in values.items():
        if name == "hypertool_persona_tokens_used_total":
            per_batch[dict(labels)["persona"]] = value
    for batch_id in acked:
        assert per_batch.get(f"batch-{batch_id}") == 5, batch_id  # acknowledged: exactly once
    assert all(v == 5 for v in per_batch.values())  # never partial, never doubled


WRITER = """
import sys
from hypertool_exporter.model.events import TokensUsed
from hypertool_exporter.journal.store import Journal
path, total = sys.argv[1], int(sys.argv[2])
with Journal(path) as journal:
    for start in range(0, total, 500):
        journal.append([TokensUsed(f"p{i % 40}", "gpt-4o", 1, 1, f"m{i % 5}", 1e9 + i)
                        for i in range(start, start + 500)])
"""


def test_fifty_concurrent_scrapes_during_heavy_ingest(tmp_path):
    journal = tmp_path / "journal.sqlite"
    exporter = ExporterProcess(journal)
    errors: list[str] = []
    scraped: list[int] = []
    stop = threading.Event()
    total = 20_000

    deadline = time.monotonic() + 120

    def scraper() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                status, text = http_get(f"http://127.0.0.1:{exporter.port}/metrics", timeout=20)
                assert status == 200
                samples(text)  # must parse
                scraped.append(1)
            except Exception as exc:
                errors.append(repr(exc))

    scrapers = [threading.Thread(target=scraper) for _ in range(50)]
    for t in scrapers:
        t.start()
    try:
        # The writer is its own process: 50 scraper threads here would starve it.
        writer = subprocess.run(
            [sys.executable, "-c", WRITER, str(journal), str(total)], timeout=120, check=True
        )
        assert writer.returncode == 0
        wait_for(
            lambda: (
                sample(
                    exporter.scrape(), "hypertool_exporter_events_applied_total", type="tokens_used"
                )
                == total
            ),
            timeout=60,
            what="all events",
        )
    finally:
        stop.set()
        for t in scrapers:
            t.join(60)
        exporter.stop()
    assert errors == []
    assert len(scraped) >= 50
