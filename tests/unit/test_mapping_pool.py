"""Large OTLP exports mapped in worker processes (``http.mapping_pool``): the
same events, keys, refusals and answers as when this process maps them, a
body that cannot be read refused the same way, and no export lost when a
worker dies or its exporter does."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from harness.otlp_exports import nested_calls
from harness.support import alive, wait_for

from hypertool_exporter.http import mapping_pool, otlp
from hypertool_exporter.http.spans import SpanIngest
from hypertool_exporter.model import cores as model_cores
from hypertool_exporter.model.config import ConfigError, parse_config
from hypertool_exporter.model.fields import MALFORMED, EventError

#: A worker starts in well under a second; this allows for a loaded machine.
START_TIMEOUT = 60
#: The ingests' clock, and the spans' end, a second before it.
NOW = 1_800_000_000.0
END_NS = int(NOW - 1) * 10**9


def export(first: int, calls: int) -> bytes:
    return nested_calls(first, calls, END_NS)


def json_export(calls: int) -> bytes:
    spans = [
        {
            "traceId": f"{n + 1:032x}",
            "spanId": f"{n + 1:016x}",
            "name": "chat",
            "startTimeUnixNano": str(END_NS - 10**9),
            "endTimeUnixNano": str(END_NS),
            "attributes": [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(n)}},
                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "7"}},
            ],
        }
        for n in range(calls)
    ]
    return json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}).encode()


class Recorded:
    """A SpanIngest writing into a list, with ``workers`` mapping processes."""

    def __init__(self, workers: int):
        self.batches: list = []
        self.ingest = SpanIngest(self._write, workers=workers, clock=lambda: NOW)

    def _write(self, events, keys):
        self.batches.append((events, keys))
        return len(events)

    def close(self):
        self.ingest.close()


@pytest.fixture
def pooled():
    recorded = Recorded(workers=1)
    assert recorded.ingest.pool.started(START_TIMEOUT) is not None
    yield recorded
    recorded.close()


@pytest.mark.parametrize("kind", [otlp.PROTOBUF, otlp.JSON])
def test_a_worker_maps_an_export_as_this_process_does(pooled, kind):
    body = export(0, 200) if kind == otlp.PROTOBUF else json_export(400)
    assert len(body) >= mapping_pool.MIN_BYTES
    here = Recorded(workers=0)
    expected = here.ingest.export(body, kind)
    answered = pooled.ingest.export(body, kind)
    assert pooled.ingest.pool.mapped_by_workers == 1
    assert here.ingest.pool.mapped_by_workers == 0
    assert answered == expected
    assert pooled.batches == here.batches
    if kind == otlp.PROTOBUF:  # the export holds every case the mapping tells apart
        assert expected.rejected == 2 and "spanId" in expected.message
        assert expected.new_events == 2 * 200 + 1  # each call's usage and call, and the stage
        counted = [e for e in here.batches[0][0] if type(e).__name__ == "TokensUsed"]
        assert len(counted) == 200  # of each nested pair, one
    # sent again: the lineage and the keys of the pooled ingest know it
    assert pooled.ingest.export(body, kind).new_events == here.ingest.export(body, kind).new_events


def test_a_body_that_cannot_be_read_is_refused_alike(pooled):
    garbage = b"\x0a\xff\xff\xff\xff\x0f" + bytes(mapping_pool.MIN_BYTES)
    with pytest.raises(EventError) as here:
        Recorded(workers=0).ingest.export(garbage, otlp.PROTOBUF)
    with pytest.raises(EventError) as there:
        pooled.ingest.export(garbage, otlp.PROTOBUF)
    assert there.value.code == here.value.code == MALFORMED
    assert str(there.value) == str(here.value)
    assert pooled.ingest.pool.mapped_by_workers == 0 and pooled.batches == []


def test_small_exports_are_mapped_here(pooled):
    body = export(0, 2)
    assert len(body) < mapping_pool.MIN_BYTES
    assert pooled.ingest.export(body, otlp.PROTOBUF).new_events > 0
    assert pooled.ingest.pool.mapped_by_workers == 0


def test_a_killed_worker_loses_no_export_and_a_new_one_starts(pooled):
    pool = pooled.ingest.pool
    first = pool.started(START_TIMEOUT)
    os.kill(first, signal.SIGKILL)
    here = Recorded(workers=0)
    for start in (0, 10**6):  # the first finds the worker dead
        body = export(start, 200)
        assert pooled.ingest.export(body, otlp.PROTOBUF) == here.ingest.export(body, otlp.PROTOBUF)
    assert pool.mapped_by_workers == 0
    second = pool.started(START_TIMEOUT)
    assert second is not None and second != first
    body = export(2 * 10**6, 200)
    assert pooled.ingest.export(body, otlp.PROTOBUF) == here.ingest.export(body, otlp.PROTOBUF)
    assert pool.mapped_by_workers == 1
    assert pooled.batches == here.batches


def test_no_workers_start_when_none_are_asked_for():
    recorded = Recorded(workers=0)
    assert recorded.ingest.pool.started(START_TIMEOUT) is None
    assert recorded.ingest.export(export(0, 200), otlp.PROTOBUF).spans == 2 * 200 + 3
    assert recorded.ingest.pool.mapped_by_workers == 0


def test_workers_exit_when_their_exporter_is_killed():
    script = textwrap.dedent(
        """
        import sys, time
        from hypertool_exporter.http.mapping_pool import MappingPool
        from hypertool_exporter.model.genai import SpanMapping
        pool = MappingPool(1, SpanMapping())
        print(pool.started(60), flush=True)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        assert alive(worker)
    finally:
        parent.kill()
        parent.wait()
    wait_for(lambda: not alive(worker), 30, "the orphaned worker to exit")


@pytest.mark.parametrize(
    ("text", "workers"),
    [
        ("", None),
        ("otlp: {workers: auto}", None),
        ("otlp: {workers: 0}", 0),
        ("otlp: {workers: 3}", 3),
    ],
)
def test_the_number_of_workers_is_configured(text, workers):
    assert parse_config(text).otlp_workers == workers


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("otlp: {workers: -1}", "otlp.workers: must be a whole number"),
        ("otlp: {workers: many}", "otlp.workers: must be a whole number"),
        ("otlp: {workers: 1.5}", "otlp.workers: must be a whole number"),
        ("otlp: {workers: 65}", "otlp.workers: must be auto or at most 64"),
    ],
)
def test_a_bad_number_of_workers_is_refused_by_name(text, reason):
    with pytest.raises(ConfigError, match=reason):
        parse_config(text)


@pytest.mark.parametrize(
    ("affinity", "cpu_max", "v1_quota", "cores", "workers"),
    [
        (8, None, None, 8, 2),  # no control group limit: two, serve is the limit past that
        (2, None, None, 2, 2),
        (1, None, None, 1, 0),  # on one core workers only take turns with serve
        (8, "max 100000", None, 8, 2),
        (8, "150000 100000", None, 2, 2),  # a limit of 1.5 CPUs: two cores' worth
        (8, "50000 100000", None, 1, 0),  # half a CPU (a pod's limit of 500m)
        (8, None, "100000", 1, 0),  # cgroup v1: one CPU
        (8, None, "-1", 8, 2),  # cgroup v1 without a limit
    ],
)
def test_auto_follows_the_cores_and_the_cpu_limit(
    tmp_path, monkeypatch, affinity, cpu_max, v1_quota, cores, workers
):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(affinity)))
    monkeypatch.setattr(model_cores, "CPU_MAX", tmp_path / "cpu.max")
    monkeypatch.setattr(model_cores, "CFS_QUOTA", tmp_path / "cpu.cfs_quota_us")
    monkeypatch.setattr(model_cores, "CFS_PERIOD", tmp_path / "cpu.cfs_period_us")
    if cpu_max is not None:
        (tmp_path / "cpu.max").write_text(cpu_max + "\n")
    if v1_quota is not None:
        (tmp_path / "cpu.cfs_quota_us").write_text(v1_quota + "\n")
        (tmp_path / "cpu.cfs_period_us").write_text("100000\n")
    assert model_cores.cores() == cores
    assert mapping_pool.default_workers() == workers
