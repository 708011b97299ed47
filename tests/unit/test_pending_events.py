"""``journal.durability: buffered``: events wait for a commit in order, a
failed commit keeps them, a full buffer refuses by name, and the level is
a config choice checked by name."""

import threading
import time

import pytest
from harness.support import wait_for
from prometheus_client import CollectorRegistry

from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.journal.buffer import PendingEvents
from hypertool_exporter.journal.errors import JournalError
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.config import ConfigError, parse_config
from hypertool_exporter.model.events import TokensUsed

NOW = time.time()


def tokens(n: int) -> TokensUsed:
    return TokensUsed("p", "m", n, 0, ts=NOW)


class FlakyJournal:
    """Commits what waits, or fails while ``broken``."""

    def __init__(self):
        self.committed: list[int] = []
        #: Plain records committed, per label set: their input tokens.
        self.records: dict[tuple[str, str, str], list[int]] = {}
        self.broken = False
        self.pending: PendingEvents | None = None

    def commit(self) -> None:
        assert self.pending is not None
        events, _, runs = self.pending.take()
        if self.broken:
            self.pending.give_back(events, [], runs)
            raise JournalError("disk full")
        self.committed += [event.input_tokens for event in events]
        for labels, run in runs:
            self.records.setdefault(labels, []).extend(run[0::3])


def test_a_failed_commit_keeps_the_events_first_in_line_and_a_full_buffer_refuses():
    journal = FlakyJournal()
    pending = journal.pending = PendingEvents(journal.commit, interval=3600, batch=10, limit=25)
    try:
        journal.broken = True
        for n in range(25):
            pending.add(tokens(n))  # the commits a full batch starts fail: kept
        with pytest.raises(JournalError, match=r"25 events wait.*none of those waiting is lost"):
            pending.add(tokens(25))
        journal.broken = False
        journal.commit()
        assert journal.committed == list(range(25))  # all, in order, once
    finally:
        pending.stop()


def test_plain_records_wait_in_their_runs_count_toward_the_limit_and_survive_a_failed_commit():
    journal = FlakyJournal()
    pending = journal.pending = PendingEvents(journal.commit, interval=3600, batch=10, limit=25)
    first, second = ("p", "default", "m"), ("q", "default", "m")
    try:
        journal.broken = True
        for n in range(25):  # events and two label sets' records, interleaved
            if n % 3 == 0:
                pending.add(tokens(n))
            else:
                pending.add_record(first if n % 3 == 1 else second, (n, 0, NOW))
        assert len(pending) == 25
        with pytest.raises(JournalError, match=r"25 events wait.*none of those waiting is lost"):
            pending.add_record(first, (25, 0, NOW))
        with pytest.raises(JournalError, match=r"25 events wait"):
            pending.add(tokens(25))
        journal.broken = False
        journal.commit()
        assert journal.committed == list(range(0, 25, 3))  # all, in order, once
        assert journal.records == {first: list(range(1, 25, 3)), second: list(range(2, 25, 3))}
        assert not pending
    finally:
        pending.stop()


def test_stop_commits_what_waits():
    journal = FlakyJournal()
    pending = journal.pending = PendingEvents(journal.commit, interval=3600)
    for n in range(3):
        pending.add(tokens(n))
    pending.stop()
    assert journal.committed == [0, 1, 2]


def test_the_flusher_leaves_the_commits_to_a_committing_caller_and_takes_what_it_leaves():
    committers: list[str] = []
    journal = FlakyJournal()

    def commit() -> None:
        committers.append(threading.current_thread().name)
        journal.commit()

    pending = journal.pending = PendingEvents(commit, interval=0.05, batch=5)
    try:
        added, ends = 0, time.monotonic() + 0.5  # ten ticks of a caller committing all along
        while time.monotonic() < ends:
            pending.add(tokens(added))
            added += 1
        flusher_commits = committers.count("journal-flusher")
        assert committers.count(threading.current_thread().name) >= 10
        # Each tick found a caller's commit since the last: the flusher left
        # them to it (it would commit at nearly every tick otherwise).
        assert flusher_commits <= 3, committers
        # What the loop left (fewer than a batch), the flusher takes; then a
        # last few, fewer than a batch from empty, are the flusher's too (on
        # top of the leftovers they could fill a batch, which the caller commits).
        wait_for(lambda: len(journal.committed) == added, 5, "the loop's last events")
        for n in range(2):
            pending.add(tokens(added + n))
        wait_for(lambda: len(journal.committed) == added + 2, 5, "the flusher's commit")
        assert committers[-1] == "journal-flusher"
        assert journal.committed == list(range(added + 2))  # all, in order, once
    finally:
        pending.stop()


def test_a_buffered_collector_shows_its_events_in_its_own_metrics_without_a_flush(tmp_path):
    collector = PersonaMetricsCollector(CollectorRegistry(), journal=tmp_path / "j.sqlite")
    try:
        collector.record_token_usage("p", "default", "gpt-4", 7, 3)

        def shown():
            counters = collector.state.view().counters.get(c.PERSONA_TOKENS.name, {})
            return sum(counters.values()) == 10

        wait_for(shown, 5, "the buffered event in the collector's own metrics")
    finally:
        collector.close()


def test_durability_is_one_of_three_levels_named_in_the_error():
    assert parse_config("journal: {durability: power}\n").durability == "power"
    assert parse_config("").durability == "buffered"
    with pytest.raises(ConfigError, match=r"journal\.durability.*buffered, process, power"):
        parse_config("journal: {durability: fsync}\n")
