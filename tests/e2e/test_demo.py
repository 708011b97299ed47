"""`hypertool-exporter demo --stack` (what `make demo` runs): exporter, Prometheus and
Alertmanager come up, the URLs are printed, and Prometheus scrapes the demo."""

import json
import re
import socket
import subprocess
import urllib.request

from harness.support import CLI, require_binary, wait_for


def test_demo_stack_serves_and_is_scraped(tmp_path):
    """Ports 0 are picked by the kernel and printed as bound; a port that is
    taken (here, held by the test: the exporter's and Prometheus') is given
    up for a free one, and the exporter's says how to pick another."""
    require_binary("prometheus")
    require_binary("prometheus-alertmanager")
    with socket.socket() as busy, socket.socket() as also_busy:
        for sock in (busy, also_busy):
            sock.bind(("127.0.0.1", 0))
            sock.listen()
        taken, exporter_taken = busy.getsockname()[1], also_busy.getsockname()[1]
        proc = subprocess.Popen(
            [
                *CLI,
                "demo",
                "--stack",
                "--port",
                str(exporter_taken),
                "--prometheus-port",
                str(taken),
                "--alertmanager-port",
                "0",
                "--duration",
                "60",
                "--journal",
                str(tmp_path / "journal.sqlite"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        _demo_is_scraped(proc, {taken, exporter_taken})


def _demo_is_scraped(proc: subprocess.Popen, taken: set[int]) -> None:
    try:
        lines = []
        while not any(line.startswith("Stop with") for line in lines):
            line = proc.stdout.readline()
            assert line, f"demo exited early: {lines}"
            lines.append(line.strip())
        assert any(
            line.startswith(f"port {port} is taken (--port or HYPERTOOL_PORT picks another)")
            for line in lines
            for port in taken
        ), lines
        urls = dict(
            re.findall(
                r"^(Status page|Exporter metrics|Prometheus|Alertmanager)\s+(\S+)$",
                "\n".join(lines),
                re.M,
            )
        )
        assert urls.keys() == {"Status page", "Exporter metrics", "Prometheus", "Alertmanager"}
        assert urls["Exporter metrics"] == urls["Status page"] + "metrics"
        ports = {name: int(re.search(r":(\d+)", url).group(1)) for name, url in urls.items()}
        assert 0 not in ports.values() and not taken & set(ports.values())
        assert len(set(ports.values())) == 3

        def scraped():
            url = f"{urls['Prometheus']}/api/v1/query?query=hypertool_exporter_build_info"
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())["data"]["result"]

        assert wait_for(scraped, 30, "Prometheus to scrape the demo")
    finally:
        proc.terminate()
        proc.wait(30)
    assert proc.returncode == 0
