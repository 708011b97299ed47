"""Memory of calls waiting for their workflow (``model.waiting``), when the
workflow span never comes: OTLP requests of chat spans whose parents never
arrive, fed to the span ingest (its lineage and its waiting calls, the
journal write left out), at 1x, 4x and 16x the waiting capacity.

The figure is the memory held at 16x over the memory held at 4x: bounded
means about 1 (the oldest calls give up as new ones come; the lineage's two
generations make it swing by up to one generation), where an unbounded wait
would be 4. Measured with ``tracemalloc`` (what the ingest's objects hold,
not the process's RSS, which the allocator keeps).
"""

from __future__ import annotations

import gc
import time
import tracemalloc

from common import Result

from hypertool_exporter.http.spans import SpanIngest
from hypertool_exporter.model.genai import SpanRecord
from hypertool_exporter.model.lineage import UsageLineage

#: Calls that may wait, and lineage entries kept, small enough to run quickly.
CAPACITY = 5_000
PER_REQUEST = 100


def _chat(n: int) -> SpanRecord:
    trace = f"{n // 10 + 1:032x}"  # ten calls a trace: their root never comes
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.request.model": "gpt-4",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 10,
        "hypertool.persona": "qa",
    }
    end = time.time_ns()
    parent = f"{n // 10 + 1:016x}"
    return SpanRecord(trace, f"{n + 1:016x}", parent, "chat", end - 10**9, end, attributes, {})


def _held(calls: int) -> int:
    """Bytes the ingest holds after ``calls`` calls whose workflow never came."""
    gc.collect()
    tracemalloc.start()
    ingest = SpanIngest(lambda events, keys: len(events), lineage=UsageLineage(CAPACITY))
    ingest.waiting.capacity = CAPACITY
    for start in range(0, calls, PER_REQUEST):
        result = ingest([_chat(n) for n in range(start, start + PER_REQUEST)], [])
        assert not result.rejected, result.message
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(ingest.waiting) <= CAPACITY, len(ingest.waiting)
    return held


def run(quick: bool = False) -> list[Result]:
    sizes = {scale: _held(CAPACITY * scale) for scale in (1, 4, 16)}
    return [
        Result(
            "waiting for workflows: memory at 16x the capacity / at 4x",
            sizes[16] / 1e6,
            sizes[4] / 1e6,
            "MB",
            "< 1.3x (bounded)",
            sizes[16] / sizes[4] < 1.3,
        ),
        Result(
            "waiting for workflows: bytes held per call, at the capacity",
            sizes[1] / CAPACITY,
            1.0,
            "B",
            "report",
            None,
        ),
    ]


__all__ = ["run"]
