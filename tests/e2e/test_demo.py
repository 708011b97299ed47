"""`hypertool-exporter demo --stack` (what `make demo` runs): exporter, Prometheus and
Alertmanager come up, the URLs are printed, and Prometheus scrapes the demo."""

import json
import re
import subprocess
import urllib.request

from harness.support import CLI, free_port, require_binary, wait_for


def test_demo_stack_serves_and_is_scraped(tmp_path):
    require_binary("prometheus")
    require_binary("prometheus-alertmanager")
    ports = [free_port() for _ in range(3)]
    proc = subprocess.Popen(
        [
            *CLI,
            "demo",
            "--stack",
            "--port",
            str(ports[0]),
            "--prometheus-port",
            str(ports[1]),
            "--alertmanager-port",
            str(ports[2]),
            "--duration",
            "60",
            "--journal",
            str(tmp_path / "journal.sqlite"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = []
        while not any(line.startswith("Stop with") for line in lines):
            line = proc.stdout.readline()
            assert line, f"demo exited early: {lines}"
            lines.append(line.strip())
        urls = dict(
            re.findall(
                r"^(Exporter metrics|Prometheus|Alertmanager)\s+(\S+)$", "\n".join(lines), re.M
            )
        )
        assert urls == {
            "Exporter metrics": f"http://127.0.0.1:{ports[0]}/metrics",
            "Prometheus": f"http://127.0.0.1:{ports[1]}",
            "Alertmanager": f"http://127.0.0.1:{ports[2]}",
        }

        def scraped():
            url = f"{urls['Prometheus']}/api/v1/query?query=hypertool_exporter_build_info"
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())["data"]["result"]

        assert wait_for(scraped, 30, "Prometheus to scrape the demo")
    finally:
        proc.terminate()
        proc.wait(30)
    assert proc.returncode == 0
