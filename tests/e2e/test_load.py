"""A shortened load test (the full one is `python bench/run.py load`): concurrent
scrapes and ingest batches on loopback, zero errors, every event applied."""

from harness.support import ExporterProcess, sample, wait_for
from load import run_load

TOKEN = "load-test-token-0123456789"


def test_concurrent_scrapes_and_ingest_without_errors(tmp_path):
    exporter = ExporterProcess(tmp_path / "journal.sqlite", env={"HYPERTOOL_INGEST_TOKEN": TOKEN})
    try:
        report = run_load(exporter.port, TOKEN, seconds=4, scrapers=4, writers=4)
        assert report.errors == []
        assert report.count("metrics") > 10 and report.count("ingest") > 10
        wait_for(
            lambda: (
                sample(
                    exporter.scrape(), "hypertool_exporter_events_applied_total", type="tokens_used"
                )
                == report.events_sent
            ),
            what="every ingested event to be applied",
        )
    finally:
        exporter.stop()
