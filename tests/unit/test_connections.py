"""Connections bounded per source and in total, shed fairly; a flood of slow
connections past the file limit leaves /metrics and /healthz answering."""

import http.client
import resource
import socket
import time

import pytest
from harness.support import ExporterProcess, cpu_seconds, wait_for

from hypertool_exporter.http.connections import Connections


def _pair() -> socket.socket:
    one, other = socket.socketpair()
    _pair.keep.append(other)  # the peer stays open until the test ends
    return one


_pair.keep = []


def _closed_by_server(conn: socket.socket) -> bool:
    """The server shut ``conn``: a read ends at once with nothing."""
    conn.settimeout(0)
    try:
        return conn.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def test_a_full_source_sheds_its_own_oldest_idle_connection_never_a_busy_one():
    table = Connections(total=100, per_source=3)
    first, second, third = _pair(), _pair(), _pair()
    for conn in (first, second, third):
        assert table.admit(conn, "10.0.0.1")
    table.busy(first)  # answering a request: never shed
    fourth = _pair()
    assert table.admit(fourth, "10.0.0.1")
    assert len(table) == 3 and table.shed == 1
    # The oldest idle one (second) went; first is still busy, third waits.
    table.release(second)  # its thread ends: already forgotten, nothing counted twice
    assert len(table) == 3
    table.busy(third)
    table.busy(fourth)
    assert not table.admit(_pair(), "10.0.0.1")  # all busy: refused, not queued
    assert table.refused == 1
    assert table.admit(_pair(), "10.0.0.2")  # another source has its own share


def test_a_full_server_sheds_from_the_source_holding_the_most():
    table = Connections(total=6, per_source=6)
    flood = [_pair() for _ in range(5)]
    for conn in flood:
        assert table.admit(conn, "10.0.0.9")
    scraper = _pair()
    assert table.admit(scraper, "10.0.0.1")
    assert len(table) == 6
    newcomer = _pair()
    assert table.admit(newcomer, "10.0.0.2")  # full: the flood's oldest makes room
    assert len(table) == 6 and table.shed == 1
    table.release(scraper)
    table.release(newcomer)
    assert len(table) == 4


def _slow_connections(port: int, count: int, source: str) -> list[socket.socket]:
    """``count`` connections that send half a request line and then nothing."""
    held = []
    for _ in range(count):
        conn = socket.socket()
        conn.bind((source, 0))
        try:
            conn.connect(("127.0.0.1", port))
            conn.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finished
        except OSError:
            conn.close()  # shed before it could say anything: the point
            continue
        held.append(conn)
    return held


def _get(port: int, path: str, source: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _file_limit_1024() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))


@pytest.mark.slow
@pytest.mark.parametrize("flood_source", ["127.0.0.1", "127.0.0.2"])
def test_1100_slow_connections_past_the_file_limit_leave_the_exporter_answering(
    tmp_path, flood_source
):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
    exporter = ExporterProcess(tmp_path / "j.sqlite", preexec=_file_limit_1024)
    held = []
    try:
        held = _slow_connections(exporter.port, 1100, flood_source)
        # Same source or another: a scrape and a probe get through the flood.
        for path in ("/healthz", "/metrics"):
            assert wait_for(lambda p=path: _get(exporter.port, p, "127.0.0.1") == 200, 10, path)
        # The shed connections were closed by the server, not left hanging.
        closed = wait_for(
            lambda: sum(_closed_by_server(c) for c in held) >= len(held) // 2 or None,
            10,
            "the oldest slow connections to be shed",
        )
        assert closed
        # With the flood still open, the server is idle: no accept loop spinning.
        before, started = cpu_seconds(exporter.proc.pid), time.monotonic()
        wait_for(lambda: time.monotonic() - started >= 2.0, 5, "two seconds")
        used = cpu_seconds(exporter.proc.pid) - before
        assert used < 0.5 * (time.monotonic() - started), f"{used:.2f} s of CPU while idle"
        assert _get(exporter.port, "/metrics", "127.0.0.1") == 200
    finally:
        exporter.stop()  # with the flood still open: SIGTERM is heard, the exporter exits
        for conn in held:
            conn.close()
