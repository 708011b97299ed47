"""Bad input and unusable journals give clear errors and non-zero exits."""

import pytest
from harness.support import EXAMPLE_TOKENS, run_cli


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["tokens", "qa", "--model", "gpt-4", "--input", "-5"],
            "input_tokens: must not be negative (got -5)",
        ),
        (
            ["tokens", "qa", "--model", "gpt-4", "--output", "many"],
            "output_tokens: must be a whole number (plain ASCII digits) (got 'many')",
        ),
        (
            ["stage", "w", "s", "--persona", "qa", "--seconds", "nan", "--gate", "passed"],
            "duration_seconds: must be a decimal number (plain ASCII digits) (got 'nan')",
        ),
        (
            ["stage", "w", "s", "--persona", "qa", "--seconds", "1", "--gate", "maybe"],
            "--gate: must be passed, failed or none (no gate) (got 'maybe')",
        ),
        (["switch", " "], "to_persona: must not be empty"),
        (
            ["llm", "qa", "--model", "gpt-4", "--seconds", "-1"],
            "duration_seconds: must not be negative",
        ),
    ],
)
def test_bad_cli_input_names_field_and_value(tmp_path, args, needle):
    journal = tmp_path / "journal.sqlite"
    result = run_cli(*args, "--journal", str(journal), check=False)
    assert result.returncode == 2
    assert needle in result.stderr
    assert not journal.exists()  # nothing half-written


def test_unwritable_journal_says_the_event_was_not_recorded(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_cli("switch", "qa", "--journal", str(blocker / "journal.sqlite"), check=False)
    assert result.returncode == 1
    assert "event NOT recorded" in result.stderr


def test_malformed_config_stops_serve_with_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("budgets:\n  qa:\n    tokens: 10\n    period: fortnightly\n")
    result = run_cli(
        "serve", "--config", str(bad), "--journal", str(tmp_path / "j.sqlite"), check=False
    )
    assert result.returncode == 2
    assert (
        f"{bad}:4: budgets.qa.period: must be one of daily, weekly, monthly, total" in result.stderr
    )
    assert "'fortnightly'" in result.stderr
    assert run_cli("check-config", str(bad), check=False).returncode == 2


@pytest.mark.parametrize(
    ("args", "hint"),
    [
        (("switch", "qa", "-q"), "switch: unknown option -q; did you mean --quiet?"),
        (("switch", "qa", "--qiet"), "switch: unknown option --qiet; did you mean --quiet?"),
        (("stats", "-j"), "stats: unknown option -j; did you mean one of --json, --journal?"),
    ],
)
def test_an_unknown_option_gets_the_one_it_may_stand_for(args, hint):
    result = run_cli(*args, check=False)
    assert result.returncode == 2 and hint in result.stderr


def test_bad_port_is_named(tmp_path):
    result = run_cli("serve", "--port", "99999", "--journal", str(tmp_path / "j"), check=False)
    assert result.returncode == 2 and "--port: must be between 0 and 65535" in result.stderr


def test_stats_reads_the_journal_alone(tmp_path, config_file):
    env = {"HYPERTOOL_JOURNAL": str(tmp_path / "journal.sqlite")}
    run_cli("switch", "backend-engineer", env=env)
    run_cli(
        *EXAMPLE_TOKENS,
        env=env,
    )
    run_cli(
        "stage",
        "w",
        "s",
        "--persona",
        "backend-engineer",
        "--seconds",
        "3",
        "--gate",
        "failed",
        env=env,
    )
    result = run_cli("stats", "--config", str(config_file), "--json", env=env)
    import json

    (row,) = json.loads(result.stdout)
    assert row == {
        "persona": "backend-engineer",
        "input_tokens": 600,
        "output_tokens": 250,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "reasoning_tokens": 0,
        "cost_usd": 0.033,  # rounded to a millionth of a dollar: no float noise
        "estimated_cost_usd": 0.033,
        "reported_cost_usd": 0.0,
        "unpriced_tokens": 0,
        "switches": 1,
        "failed_gates": 1,
        "tokens": 850,
    }
    table = run_cli("stats", "--config", str(config_file), env=env).stdout
    assert "backend-engineer" in table and "0.0330" in table


def test_stats_before_anything_was_recorded_says_so(tmp_path):
    """A fresh install has no journal yet: nothing recorded, not an error."""
    missing = tmp_path / "none.sqlite"
    result = run_cli("stats", "--journal", str(missing), check=False)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith(f"nothing recorded yet: {missing} does not exist.")
    assert run_cli("stats", "--json", "--journal", str(missing)).stdout == "[]\n"
    assert not missing.exists()  # asking created nothing


def test_a_tokens_command_with_nothing_to_record_is_refused(tmp_path):
    journal = str(tmp_path / "j.sqlite")
    result = run_cli("tokens", "qa", "--model", "m", "--journal", journal, check=False)
    assert result.returncode == 2
    assert "give --input or --output (nothing to record)" in result.stderr
    assert "recorded" not in result.stdout
    # A reported cost alone is something to record.
    run_cli("tokens", "qa", "--model", "m", "--cost-usd", "0.10", "--journal", journal)


def test_a_journal_that_cannot_be_opened_names_the_cause(tmp_path):
    parent = tmp_path / "a-file"
    parent.write_text("")
    for journal, cause in (
        (parent / "j.sqlite", f"{parent} is a file, not a directory"),
        (parent / "deeper" / "j.sqlite", f"{parent} is a file, not a directory"),
        (tmp_path, f"{tmp_path} is a directory, not a journal file"),
    ):
        result = run_cli("switch", "qa", "--journal", str(journal), check=False)
        assert result.returncode == 1, result.stderr
        assert f"event NOT recorded: cannot open journal {journal}: {cause} (" in result.stderr


def test_a_read_only_or_unwritable_place_is_named(tmp_path):
    import os
    from types import SimpleNamespace

    from hypertool_exporter.journal.errors import cause_of

    journal = str(tmp_path / "j.sqlite")
    read_only = SimpleNamespace(f_flag=os.ST_RDONLY)
    assert cause_of(journal, statvfs=lambda _: read_only) == (
        f"{tmp_path} is on a read-only file system"
    )
    assert cause_of(journal, writable=lambda _: False) == (
        f"{tmp_path} is not writable by this user (uid {os.getuid()})"
    )
    assert cause_of(journal) is None  # nothing wrong here
