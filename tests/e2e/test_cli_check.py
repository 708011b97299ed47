"""``hypertool-exporter check``: a shell agent asks before it spends. Exit 0
when the amount fits, 1 with one line when it does not, 2 for bad input; no
server, and a journal not created yet means nothing was spent."""

from harness.support import run_cli

CONFIG = """\
budgets:
  qa: {tokens: 1000, usd: 0.05, period: daily}
pricing:
  m: {input: 0.03, output: 0.06}
"""


def test_check_exits_0_when_it_fits_1_when_not_and_2_for_bad_input(tmp_path):
    config = tmp_path / "hypertool.yml"
    config.write_text(CONFIG)
    journal = str(tmp_path / "journal.sqlite")  # not created yet

    def check(*args):
        return run_cli("check", *args, "--config", str(config), "--journal", journal, check=False)

    fresh = check("qa", "--tokens", "1000")
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.startswith("qa: fits its daily budget (1,000 left, $0.05 left; resets in")
    run_cli("tokens", "qa", "--model", "m", "--input", "900", "--journal", journal, "--quiet")
    refused = check("QA", "--tokens", "101")  # the persona name is normalised
    assert refused.returncode == 1
    assert refused.stdout.count("\n") == 1 and refused.stdout.startswith(
        "qa: does not fit its daily budget: 900 of 1,000 tokens used, 101 more do not fit"
    )
    assert check("qa", "--tokens", "100").returncode == 0
    dollars = check("qa", "--usd", "0.03")  # 900 tokens at $0.03/1K spent $0.027
    assert dollars.returncode == 1 and "$0.03 of $0.05 spent, $0.03 more" in dollars.stdout
    assert check("nobody", "--tokens", "9999999").stdout == "nobody: no budget applies\n"
    bad = check("qa", "--tokens", "-5")
    assert bad.returncode == 2 and "--tokens: must not be negative (got -5)" in bad.stderr
