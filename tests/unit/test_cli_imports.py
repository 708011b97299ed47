"""Recording commands stay light: no prometheus_client, OpenTelemetry, YAML or argparse."""

import json
import subprocess
import sys

PROBE = """
import json, sys
from hypertool_exporter.cli.main import main
code = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules}
               & {"prometheus_client", "opentelemetry", "yaml", "grafanalib", "argparse",
                  "platformdirs"})
print(json.dumps({"code": code, "heavy": heavy}))
"""


def probe(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_recording_commands_import_nothing_heavy(tmp_path):
    journal = str(tmp_path / "j.sqlite")
    for args in (
        ["tokens", "qa", "--model", "gpt-4", "--input", "6", "--output=2", "--journal", journal],
        ["switch", "qa", "--chatmode", "debug", "--journal", journal],
        [
            "stage",
            "w",
            "s",
            "--persona",
            "qa",
            "--seconds",
            "1",
            "--gate",
            "passed",
            "--journal",
            journal,
        ],
        [
            "llm",
            "qa",
            "--model",
            "gpt-4",
            "--seconds",
            "0.5",
            "--error",
            "timeout",
            "--journal",
            journal,
        ],
    ):
        assert probe(*args) == {"code": 0, "heavy": []}, args


def test_fast_parser_and_argparse_agree():
    from hypertool_exporter.cli import main as cli

    argv = ["stage", "wf", "st", "--persona", "qa", "--seconds=3", "--journal", "x.sqlite"]
    fast = vars(cli._fast_parse(argv))
    slow = vars(cli.build_parser().parse_args(argv))
    assert fast == {k: v for k, v in slow.items() if k in fast}
    assert set(fast) == set(slow)
    # Unusual input goes to argparse, which knows the errors and --help.
    assert cli._fast_parse(["tokens", "qa"]) is None  # --model is required
    assert cli._fast_parse(["tokens", "qa", "--model", "m", "--bogus", "1"]) is None
    assert cli._fast_parse(["switch", "qa", "--help"]) is None
