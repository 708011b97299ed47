"""Every snippet in the README does what the README says, run exactly as written.

Each fenced block carries a marker comment saying how it is checked: run as a
shell script or a Python script in a copy of the checkout (a fresh venv, a
fresh journal, the port chosen by ``HYPERTOOL_PORT``), compared with
``/metrics`` (a sample output), or not run here, with the reason.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from harness.support import REPO, http_get, samples, scrape, serving_port, wait_for

MARKER = re.compile(r"<!-- snippet: (?P<how>[^>]*?) -->\n```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)
FENCE = re.compile(r"^```", re.M)


def snippets() -> list[tuple[str, str, str]]:
    """(how it is checked, language, text) of every README block, in order."""
    text = (REPO / "README.md").read_text()
    found = [(m["how"], m["lang"], m["body"]) for m in MARKER.finditer(text)]
    opening_fences = len(FENCE.findall(text)) // 2
    assert len(found) == opening_fences, "every README code block needs a snippet marker"
    return found


def test_every_snippet_says_how_it_is_checked():
    hows = [how for how, _, _ in snippets()]
    for how in hows:
        assert how.startswith(("run as", "output of", "not run here: ")), how


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    """A copy of the files git tracks (no venv, no caches), as a user would clone."""
    copy = tmp_path_factory.mktemp("checkout")
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = REPO / name.decode()
        if source.is_file():
            target = copy / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return copy


def _env(checkout: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "HYPERTOOL_"))}
    env["PATH"] = os.pathsep.join(
        p for p in env["PATH"].split(os.pathsep) if ".venv" not in p
    )  # a fresh shell: not inside the test's own venv
    env["HYPERTOOL_JOURNAL"] = str(checkout / "journal.sqlite")
    env["HYPERTOOL_PORT"] = str(port)
    return env


@pytest.mark.timeout(900)  # a fresh venv: pip installs the package and its dependencies
def test_quick_start_runs_as_written_and_serves_the_sample_output(checkout):
    (shell, expected) = next(
        (body, snippets()[i + 1][2])
        for i, (how, lang, body) in enumerate(snippets())
        if how.startswith("run as a shell script")
    )
    log = checkout / "quick-start.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", "-e", "-c", shell],
            cwd=checkout,
            env=_env(checkout, 0),  # serve binds a port the kernel picks, and logs it
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the serve at its end runs until the group is stopped
        )
    try:
        want = samples(expected)

        def served():
            if proc.poll() is not None:  # pytest.fail is no Exception: wait_for lets it out
                pytest.fail(f"the quick start exited: {log.read_text()[-3000:]}")
            port = serving_port(log)
            got = scrape(port) if port else {}
            return all(got.get(key) == value for key, value in want.items())

        wait_for(served, timeout=600, what="the quick start's exporter to serve its sample")
        # Line for line as /metrics writes them: labels in the same order too.
        lines = http_get(f"http://127.0.0.1:{serving_port(log)}/metrics")[1].splitlines()
        for line in expected.strip().splitlines():
            assert line in lines, line
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(60)
    output = log.read_text()
    assert "recorded tokens_used: persona=backend-engineer, model=gpt-4" in output
    assert "budgets (current UTC period)" in output  # stats printed its bars
    assert "Traceback" not in output


def test_in_process_snippet_runs_as_written(checkout):
    python = next(body for how, lang, body in snippets() if how.startswith("run as a Python"))
    venv_python = checkout / ".venv" / "bin" / "python"
    interpreter = str(venv_python) if venv_python.exists() else sys.executable
    done = subprocess.run(
        [interpreter, "-c", python],
        cwd=checkout,
        env=_env(checkout, 0),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
