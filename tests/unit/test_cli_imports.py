"""The CLI: recording commands stay light, and both parsers built from the one
command table agree on every command."""

import json
import subprocess
import sys

import pytest

from hypertool_exporter.cli.commands import COMMANDS
from hypertool_exporter.cli.main import fast_parse

PROBE = """
import sys
from hypertool_exporter.cli.main import main
code = main(sys.argv[1:])
heavy = sorted({m.split(".")[0] for m in sys.modules}
               & {"prometheus_client", "opentelemetry", "yaml", "grafanalib", "argparse",
                  "platformdirs", "typing", "dataclasses", "json", "re",
                  "datetime", "sqlite3"})
ours = sorted(m for m in sys.modules if m.startswith("hypertool_exporter"))
import json  # only now: the reading above must not see it
print(json.dumps({"code": code, "heavy": heavy, "ours": ours}))
"""
#: The whole of the package a recording command may load: the parser, the
#: event model and the journal's store (with its rollup, row encoding and
#: inserts), and
#: their packages.
APPEND_PATH = {
    "hypertool_exporter",
    "hypertool_exporter._version",
    "hypertool_exporter.cli",
    "hypertool_exporter.cli.commands",
    "hypertool_exporter.cli.main",
    "hypertool_exporter.cli.options",
    "hypertool_exporter.cli.record",
    "hypertool_exporter.journal",
    "hypertool_exporter.journal.driver",
    "hypertool_exporter.journal.errors",
    "hypertool_exporter.journal.inserts",
    "hypertool_exporter.journal.layouts",
    "hypertool_exporter.journal.reservations",
    "hypertool_exporter.journal.rollup",
    "hypertool_exporter.journal.rows",
    "hypertool_exporter.journal.run_rows",
    "hypertool_exporter.journal.schema",
    "hypertool_exporter.journal.store",
    "hypertool_exporter.model",
    "hypertool_exporter.model.eventbase",
    "hypertool_exporter.model.events",
    "hypertool_exporter.model.fields",
    "hypertool_exporter.model.runs",
    "hypertool_exporter.model.work",
    "hypertool_exporter.model.wire",
}


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
        result = probe(*args)
        assert (result["code"], result["heavy"]) == (0, []), args
        assert set(result["ours"]) <= APPEND_PATH, set(result["ours"]) - APPEND_PATH


def _argparse_values(argv: list[str]) -> dict:
    from hypertool_exporter.cli.main import build_parser

    values = vars(build_parser().parse_args(argv))
    values.pop("version")
    values.pop("command")
    return values


def _full_argv(command) -> list[str]:
    """Every argument and option of ``command`` given, both option spellings used."""
    argv = [command.name]
    for index, opt in enumerate(command.opts):
        if opt.flag:
            argv.append(opt.name)
            continue
        value = opt.choices[-1] if opt.choices else f"v{index}"
        argv += [f"{opt.name}={value}"] if index % 2 else [opt.name, value]
    for arg in command.args:
        argv.append(arg.choices[0] if arg.choices else f"{arg.dest}-value")
    return argv


def _minimal_argv(command) -> list[str]:
    argv = [command.name]
    argv += [arg.choices[0] if arg.choices else f"{arg.dest}-value" for arg in command.args]
    for opt in command.opts:
        if opt.required:
            argv += [opt.name, opt.choices[0] if opt.choices else "1"]
    return argv


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_fast_parser_and_argparse_agree_on_every_command(command, monkeypatch):
    for opt in command.opts:
        if opt.env is not None:
            monkeypatch.delenv(f"HYPERTOOL_{opt.env}", raising=False)
    for argv in (_full_argv(command), _minimal_argv(command)):
        parsed = fast_parse(argv)
        assert parsed is not None, argv
        assert parsed[0] is command
        assert parsed[1] == _argparse_values(argv), argv


def test_both_parsers_read_the_environment_alike(monkeypatch):
    monkeypatch.setenv("HYPERTOOL_CHATMODE", "from-env")
    monkeypatch.setenv("HYPERTOOL_JOURNAL", "env.sqlite")
    argv = ["tokens", "qa", "--model", "m"]
    _, values = fast_parse(argv)
    assert values["chatmode"] == "from-env" and values["journal"] == "env.sqlite"
    assert values == _argparse_values(argv)


def test_unusual_input_goes_to_argparse():
    assert fast_parse(["tokens", "qa"]) is None  # --model is required
    assert fast_parse(["tokens", "qa", "--model", "m", "--bogus", "1"]) is None
    assert fast_parse(["switch", "qa", "--help"]) is None
    assert fast_parse(["stats", "--since", "year"]) is None  # not a choice
    assert fast_parse(["stats", "--json=yes"]) is None  # a flag takes no value
    assert fast_parse(["bundle", "destroy"]) is None


def test_a_mistyped_option_is_named_with_a_suggestion():
    from harness.support import run_cli

    result = run_cli("tokens", "qa", "--modle", "gpt-4", check=False)
    assert result.returncode == 2
    assert "unknown option --modle; did you mean --model?" in result.stderr


def test_every_option_has_help_and_its_env_var_in_help():
    for command in COMMANDS:
        for opt in command.opts:
            text = opt.help_text()
            assert opt.help, (command.name, opt.name)
            if opt.env:
                assert f"[env HYPERTOOL_{opt.env}]" in text
            if opt.default is not None and not opt.flag:
                assert text.count("(default:") == 1


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_help_shows_every_option_with_its_default_and_variable(command):
    out = subprocess.run(
        [sys.executable, "-m", "hypertool_exporter.cli", command.name, "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(out.split())  # argparse wraps lines
    for opt in command.opts:
        assert opt.name in flat, (command.name, opt.name)
        assert " ".join(opt.help_text().split()) in flat, (command.name, opt.name)
        if opt.default is not None and not opt.flag:
            assert flat.count(f"(default: {opt.default})") >= 1
    assert "(default: None)" not in flat and "(default: False)" not in flat
