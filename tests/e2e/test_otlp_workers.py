"""A running ``serve`` mapping large OTLP exports in worker processes
(``otlp.workers``): exact counts from several clients at once, nested spans
counted once and retries once, no export lost when the workers are killed,
and no worker left behind when ``serve`` stops or is killed."""

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from harness.otlp_exports import nested_calls
from harness.support import ExporterProcess, alive, children_of, post_body, total, wait_for

TOKEN = "otlp-workers-token-0123456789abcdef"
CALLS = 200  # per export: 403 spans, about 40 KB, past the size that goes to a worker


def workers_of(pid: int) -> list[int]:
    """The mapping workers of process ``pid``: its children that multiprocessing spawned."""
    found = []
    for child in children_of(pid):
        try:
            command = Path(f"/proc/{child}/cmdline").read_bytes()
        except OSError:
            continue  # exited meanwhile
        if alive(child) and b"spawn_main" in command:
            found.append(child)
    return found


@pytest.fixture
def serve(tmp_path):
    config = tmp_path / "hypertool.yml"
    config.write_text("otlp: {workers: 2}\n")
    proc = ExporterProcess(
        tmp_path / "journal.sqlite", config, env={"HYPERTOOL_INGEST_TOKEN": TOKEN}
    )
    yield proc
    proc.stop()


def post(serve, body: bytes) -> int:
    status, _ = post_body(serve.port, "/v1/traces", body, TOKEN, "application/x-protobuf")
    return status


def test_exports_mapped_by_workers_count_exactly_even_when_the_workers_are_killed(serve):
    end = time.time_ns() - 10**9
    bodies = [nested_calls(n * 10**6, CALLS, end) for n in range(16)]
    assert post(serve, bodies[0]) == 200  # mapped in serve while the workers start
    wait_for(lambda: workers_of(serve.proc.pid), 60, "a mapping worker to start")
    statuses: list[int] = []

    def send(chunk):
        statuses.extend(post(serve, body) for body in chunk)

    clients = [threading.Thread(target=send, args=(bodies[i:8:2],)) for i in (1, 2)]
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    for worker in workers_of(serve.proc.pid):
        os.kill(worker, signal.SIGKILL)
    statuses += [post(serve, body) for body in bodies[8:]]
    statuses += [post(serve, body) for body in bodies[:4]]  # retried: counted once
    assert statuses == [200] * (len(bodies) - 1 + 4)

    # Of each call's two nested spans one counts: 100 + 20 tokens a call.
    calls = len(bodies) * CALLS
    values = serve.scrape_when(
        lambda v: total(v, "hypertool_llm_requests_total") >= calls, 60, "every call counted"
    )
    assert total(values, "hypertool_llm_requests_total") == calls
    assert total(values, "hypertool_persona_tokens_used_total", token_type="input") == 100 * calls
    assert total(values, "hypertool_persona_tokens_used_total", token_type="output") == 20 * calls
    assert total(values, "hypertool_workflow_stage_duration_seconds_count") == len(bodies)
    log = serve.log.read_text()
    assert "mapping large OTLP exports in 2 worker processes" in log
    assert "OTLP mapping workers failed" in log


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_no_worker_outlives_serve(serve, how):
    assert post(serve, nested_calls(0, CALLS, time.time_ns() - 10**9)) == 200
    workers = wait_for(lambda: workers_of(serve.proc.pid), 60, "a mapping worker to start")
    serve.stop(how)
    wait_for(lambda: not any(alive(w) for w in workers), 30, "the workers to exit")
