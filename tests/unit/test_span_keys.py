"""A span's delivery key (``model.genai.span_key``): the same for a re-sent
span, and ordered by end time, so that the journal's B-tree of delivery keys
takes an export's keys at its end, not on a random page each, as keys led
by random trace ids would."""

import random
import sqlite3
import time

from hypertool_exporter.http.span_mapping import SpanIds
from hypertool_exporter.journal.store import Journal
from hypertool_exporter.model.genai import SpanRecord, span_key
from hypertool_exporter.model.work import ToolCallFinished

NOW = time.time()
END = int(NOW * 1e9)


def ids(rnd):
    return f"{rnd.getrandbits(128):032x}", f"{rnd.getrandbits(64):016x}"


def test_a_re_sent_span_has_its_key_and_a_worker_sends_the_same():
    trace, span = ids(random.Random(1))
    record = SpanRecord(trace, span, None, "chat", END - 10, END, {}, {})
    again = SpanRecord(trace, span, "parent", "other name", END - 99, END, {"a": 1}, {})
    slim = SpanIds((trace, span, None, END, "scope"))
    assert record.key == again.key == slim.key == span_key(trace, span, END)
    assert span_key(trace, span, END + 1) != record.key  # another span, however alike
    other = ids(random.Random(2))
    assert span_key(*other, END) != record.key


def test_keys_of_random_ids_sort_in_end_time_order():
    rnd = random.Random(3)
    ends = sorted(rnd.randrange(END - 10**12, END + 10**12) for _ in range(2_000))
    keys = [span_key(*ids(rnd), end) for end in ends]
    assert keys == sorted(keys)
    assert all(key.startswith("span:") for key in keys)


def wal_pages_a_commit(path, key_of):
    """WAL pages each of the last exports' commits wrote, on a journal that
    already holds 30,000 delivery keys: 512 spans an export, random ids,
    ending a second after the export before."""
    rnd = random.Random(7)
    pages = []
    with Journal(path) as journal, sqlite3.connect(path) as reader:
        for export in range(64):
            spans = [(*ids(rnd), END + export * 10**9 + n) for n in range(512)]
            events = [ToolCallFinished("qa", "search", 0.1, None, NOW, None) for _ in spans]
            reader.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            journal.append(events, [key_of(*span) for span in spans])
            pages.append(reader.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1])
    return sum(pages[-8:]) / 8


def test_an_export_of_random_trace_ids_writes_a_few_pages_not_one_a_span(tmp_path):
    ours = wal_pages_a_commit(tmp_path / "time-led.sqlite", span_key)
    trace_led = wal_pages_a_commit(
        tmp_path / "trace-led.sqlite", lambda trace, span, end: f"span:{trace}{span}"
    )
    assert trace_led > 200  # keys led by random trace ids: a page or more each of many
    assert ours < 0.2 * trace_led, (ours, trace_led)
