"""An exporter started as a first run starts it (no config file, an empty
journal) and scraped once loads neither genai-prices (the shipped price
index answers the models it names), PyYAML (read with a config file),
orjson (with the journal writer's first write), what a long replay needs
(subprocess, pickle), nor, without an ingest token, OTLP span ingest (its
decoders, the GenAI conventions, mapping, lineage and worker pool): what an
idle exporter holds is what it serves."""

import json
import subprocess
import sys

PROBE = """
import json, sys, urllib.request
from hypertool_exporter.app import Exporter
from hypertool_exporter.model.config import Config
exporter = Exporter(Config(), journal=sys.argv[1])
exporter.catch_up()
server = exporter.serve("127.0.0.1", 0, ingest=exporter.writer)
url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
with urllib.request.urlopen(url, timeout=10) as answer:
    assert answer.status == 200
loaded = sorted({m.split(".")[0] for m in sys.modules}
                & {"genai_prices", "pydantic", "yaml", "orjson", "subprocess", "pickle"})
ingest = ["http.spans", "http.span_mapping", "http.mapping_pool", "model.lineage",
          "http.otlp", "http.otlp_logs", "model.genai", "model.genai_conventions",
          "model.genai_usage", "model.genai_work"]
loaded += sorted(m for m in sys.modules if m.removeprefix("hypertool_exporter.") in ingest)
print(json.dumps(loaded))
exporter.close()
"""


def test_an_idle_exporter_loads_only_what_it_serves(tmp_path):
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "j.sqlite")],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
