"""The CLI tells the user what it did: one line per recorded event, budget bars
in `stats`, and a demo that leaves nothing behind."""

import shutil
import subprocess
import tempfile
from pathlib import Path

from harness.support import CLI, EXAMPLE_TOKENS, run_cli

from hypertool_exporter.cli.stats import bar, format_budgets
from hypertool_exporter.model.budgets import Standing
from hypertool_exporter.model.budgets import human_duration as duration


def test_recording_commands_confirm_in_one_line_unless_quiet(tmp_path):
    journal = str(tmp_path / "j.sqlite")
    out = run_cli(*EXAMPLE_TOKENS, "--cache-read", "100", "--journal", journal).stdout
    assert out == (
        "recorded tokens_used: persona=backend-engineer, model=gpt-4, input_tokens=600, "
        "output_tokens=250, cache_read_tokens=100\n"
    )
    assert run_cli("switch", "qa", "--quiet", "--journal", journal).stdout == ""


def test_a_recording_whose_reader_is_gone_is_recorded_and_exits_0(tmp_path):
    """A recording command exits without the interpreter's teardown once its
    output is flushed (``cli.main.entry``); a reader that closed its end of
    the pipe first (``| head -0``) costs the line, not the event or the code."""
    import os

    from hypertool_exporter.journal.store import Journal

    journal = tmp_path / "j.sqlite"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [*CLI, *EXAMPLE_TOKENS, "--journal", str(journal)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (0, "")
    with Journal(journal) as recorded:
        events, rejected = recorded.events_of(recorded.read_after(0))
    assert [(type(e).__name__, e.input_tokens) for e in events] == [("TokensUsed", 600)]
    assert rejected == []


def _lines(out: str) -> list[str]:
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 80, out  # an 80-column terminal
    return lines


def test_stats_draws_budget_bars_without_colour_off_a_terminal(tmp_path, config_file):
    journal = str(tmp_path / "j.sqlite")
    # backend-engineer's daily budget in the example config is 5,000 tokens.
    run_cli(
        "tokens", "backend-engineer", "--model", "gpt-4", "--input", "5600", "--journal", journal
    )
    run_cli("tokens", "qa", "--model", "gpt-4", "--input", "100", "--journal", journal)
    out = run_cli("stats", "--config", str(config_file), "--journal", journal).stdout
    assert "\033[" not in out  # not a TTY: no colour codes
    lines = _lines(out)
    engineer = lines.index(
        next(x for x in lines if x.startswith("backend-engineer  ") and "daily, resets in" in x)
    )
    assert lines[engineer + 1].startswith("  tokens " + "\u2588" * 16 + "!")
    assert "5,600 of 5,000  OVERSPENT by 600" in lines[engineer + 1]
    qa = lines.index(next(x for x in lines if x.startswith("qa  ") and "monthly" in x))
    assert "100 of 100,000  99,900 left" in lines[qa + 1]  # the default budget


def test_stats_marks_a_cost_that_leaves_out_unpriced_tokens(tmp_path, config_file):
    journal = str(tmp_path / "j.sqlite")
    run_cli("tokens", "qa", "--model", "gpt-4", "--input", "1000", "--journal", journal)
    run_cli("tokens", "qa", "--model", "in-house-llm", "--input", "500", "--journal", journal)
    run_cli("tokens", "ops", "--model", "gpt-4", "--input", "1000", "--journal", journal)
    out = run_cli("stats", "--config", str(config_file), "--journal", journal).stdout
    rows: dict[str, list[str]] = {}
    for line in _lines(out):  # the table's rows come before the budget bars
        if line.strip():
            rows.setdefault(line.split()[0], line.split())
    assert rows["PERSONA"][4] == "COST_USD"
    assert rows["qa"][4] == "0.0300*" and rows["ops"][4] == "0.0300"  # all priced: no mark
    assert rows["TOTAL"][4] == "0.0600*"
    assert "* 500 tokens of models with no price are not in the cost" in out
    wide = run_cli("stats", "--wide", "--config", str(config_file), "--journal", journal).stdout
    heading = next(line.split() for line in wide.splitlines() if line.startswith("PERSONA"))
    qa = next(line.split() for line in wide.splitlines() if line.startswith("qa "))
    assert qa[heading.index("UNPRICED")] == "500" and qa[heading.index("COST_USD")] == "0.0300*"


def test_stats_fits_80_columns_with_long_names_and_large_figures(tmp_path):
    journal = str(tmp_path / "j.sqlite")
    config = tmp_path / "budgets.yml"
    long_name = "senior-platform-reliability-engineer-for-payments"
    config.write_text(
        f"budgets:\n  {long_name}: {{tokens: 90000000000, usd: 1000000, period: weekly}}\n"
    )
    for _ in range(5):
        run_cli(
            "tokens", long_name, "--model", "gpt-4", "--input", "99999999", "--output", "99999999",
            "--journal", journal, "--quiet",
        )  # fmt: skip
    for _ in range(3):
        run_cli("switch", long_name, "--journal", journal, "--quiet")
    out = run_cli("stats", "--config", str(config), "--journal", journal).stdout
    lines = _lines(out)
    assert any(line.startswith("senior-pl") and "\u2026" in line for line in lines)
    assert any("999,999,990 of 90,000,000,000  89,000,000,010 left" in line for line in lines)
    # Without a config there are no budgets, and stats says how to see them.
    bare = _lines(run_cli("stats", "--journal", journal).stdout)
    assert bare[-1] == "no budgets: give --config FILE (or set HYPERTOOL_CONFIG) to draw their bars"


def test_bars_and_durations():
    assert bar(0.5, 10) == "\u2588" * 5 + "\u2591" * 5 + " "
    assert bar(1.5, 4) == "\u2588" * 4 + "!"
    assert [duration(s) for s in (59, 3600 + 120, 3 * 86400 + 7200)] == ["0m", "1h 2m", "3d 2h"]
    usd = Standing("qa", "weekly", None, 0, 10.0, 9.5, 60.0)
    text = format_budgets([usd], colour=True)
    assert "$9.50 of $10.00  $0.50 left" in text and "weekly, resets in 1m" in text
    assert "\033[31m" in text  # 95% used: red
    # Both limits, each its own bar: over its dollars with tokens to spare is not "1%".
    both = Standing("ops", "daily", 1_000_000, 10_000, 5.0, 10.0, 60.0, scope="fleet")
    heading, first, second = format_budgets([both], colour=False).splitlines()[1:]
    assert heading.startswith("ops  ") and heading.endswith("daily, fleet, resets in 1m")
    assert first.startswith("  tokens ") and "   1%  10,000 of 1,000,000  990,000 left" in first
    assert second.startswith("  USD    ") and " 200%  $10.00 of $5.00  OVERSPENT by $5.00" in second


def test_demo_removes_its_temporary_directory_unless_kept():
    before = set(Path(tempfile.gettempdir()).glob("hypertool-demo-*"))
    for keep in ((), ("--keep",)):
        done = subprocess.run(
            [*CLI, "demo", "--port", "0", "--duration", "1", *keep],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert "seeding an hour of history: 300 workflow runs ... done (" in done.stdout
    left = set(Path(tempfile.gettempdir()).glob("hypertool-demo-*")) - before
    assert len(left) == 1  # the kept one
    kept = left.pop()
    assert f"kept {kept}" in done.stdout
    assert (kept / "journal.sqlite").exists()
    shutil.rmtree(kept)
