"""One rule per class of hostile input, checked across its boundaries: time,
numbers, names, duplicate keys, content negotiation, credentials."""

import base64
import contextlib
import re
import sys
import unicodedata
from datetime import UTC, datetime

import bcrypt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypertool_exporter.fold.state import MetricState
from hypertool_exporter.http.negotiation import accepts_gzip, choose_format
from hypertool_exporter.http.webconfig import Auth, WebConfig, load_web_config
from hypertool_exporter.journal.store import Journal
from hypertool_exporter.journal.totals import budget_standings
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.config import ConfigError, parse_config
from hypertool_exporter.model.events import PersonaSwitched, TokensUsed, parse_event
from hypertool_exporter.model.fields import (
    MAX_FUTURE_SECONDS,
    MAX_PAST_SECONDS,
    MAX_SECONDS,
    EventError,
    label_value,
    number_from_text,
)
from hypertool_exporter.sync.tailer import JournalTailer

NOW = datetime(2026, 11, 2, 23, 58, tzinfo=UTC).timestamp()  # two minutes to midnight
TOKENS = {"type": "tokens_used", "persona": "qa", "model": "m", "input_tokens": 1}


# -- time ---------------------------------------------------------------------


@given(st.floats(min_value=-MAX_PAST_SECONDS - 60, max_value=MAX_FUTURE_SECONDS + 60))
def test_timestamps_are_accepted_exactly_within_the_window(offset):
    raw = {**TOKENS, "ts": NOW + offset}
    inside = -MAX_PAST_SECONDS <= offset <= MAX_FUTURE_SECONDS
    try:
        parse_event(raw, received=NOW)
    except EventError as exc:
        assert not inside and exc.field == "ts", (offset, exc)
    else:
        assert inside, offset
    assert parse_event(raw).ts == NOW + offset  # journal replay: no window


def test_an_event_ahead_of_the_clock_counts_in_its_own_period_and_hides_nothing():
    config = parse_config("budgets:\n  qa: {tokens: 100, period: daily}\n")
    state = MetricState(config, clock=lambda: NOW)
    state.apply(TokensUsed("qa", "m", 10, ts=NOW + 4 * 60))  # tomorrow, by its stamp
    state.apply(TokensUsed("qa", "m", 20, ts=NOW))  # today
    [today] = state.view(NOW).standings()
    assert today.tokens_used == 20  # today's usage is not hidden by tomorrow's period
    [tomorrow] = state.view(NOW + 5 * 60).standings()
    assert tomorrow.tokens_used == 10


def _fold_with_a_clock_that_steps_back(path, scrape_between: bool) -> MetricState:
    """50 tokens, the clock a day ahead for 130 more, then back: each fold
    reads the clock, and a scrape between the steps folds while it is ahead."""
    config = parse_config("budgets:\n  qa: {tokens: 1000, period: daily}\n")
    clock = [NOW - 3600]
    state = MetricState(config, clock=lambda: clock[0])
    tailer = JournalTailer(state, path)
    tailer.open()
    with Journal(path) as journal:
        journal.append([TokensUsed("qa", "m", 50, ts=clock[0])])
        clock[0] += 86400  # ahead a day
        journal.append([TokensUsed("qa", "m", 130, ts=clock[0])])
        if scrape_between:
            tailer.catch_up()
        clock[0] -= 86400 - 60  # back again
        tailer.catch_up()
        tailer.snapshot()
    tailer.stop()
    return state


def test_a_budget_is_the_same_whenever_it_is_folded_read_or_restored(tmp_path):
    """A clock that steps back: the budget must not depend on whether a
    scrape fell between the steps, nor differ from ``stats``, nor change
    on a restart. Each event counts in the period of its own time."""
    today, tomorrow = NOW - 3600 + 120, NOW - 3600 + 86400 + 120
    for scrape_between in (False, True):
        path = tmp_path / f"j-{scrape_between}.sqlite"
        state = _fold_with_a_clock_that_steps_back(path, scrape_between)
        restarted = MetricState(state.config)
        JournalTailer(restarted, path).open()  # from the snapshot
        with Journal(path) as journal:
            for now, used in ((today, 50), (tomorrow, 130)):
                [stats] = budget_standings(journal, state.config, now)
                for folded in (state, restarted):
                    [standing] = folded.view(now).standings()
                    assert standing.tokens_used == stats.tokens_used == used, (scrape_between, now)


def test_durations_are_capped_and_a_session_start_never_moves_back():
    state = MetricState()
    state.apply(PersonaSwitched("a", session="s", ts=0.0))
    state.apply(PersonaSwitched("b", session="s", ts=50 * 365 * 86400.0))  # decades later
    state.apply(PersonaSwitched("c", session="s", ts=10.0))  # out of order
    [(_, cumulative, total)] = state.view().rows(c.PERSONA_DURATION.name)
    assert total == MAX_SECONDS and cumulative[-1] == 1
    assert state.to_json()["sessions"]["s"][2] == 50 * 365 * 86400.0


# -- numbers ------------------------------------------------------------------


@given(st.text(max_size=12))
def test_command_line_numbers_are_plain_ascii_digits(text):
    whole = re.fullmatch(r"-?[0-9]+", text) is not None and text.isascii()
    try:
        value = number_from_text("input_tokens", text, whole=True)
    except EventError:
        assert not whole, text
    else:
        assert whole and value == int(text), text


@pytest.mark.parametrize(
    "text", ["+5", " 5", "5 ", "5_000", "1e3", "0x10", "\u0665", "nan", "inf", ""]
)
def test_look_alike_numbers_are_refused(text):
    with pytest.raises(EventError, match="plain ASCII digits"):
        number_from_text("input_tokens", text, whole=True)
    if text not in ("1e3",):
        with pytest.raises(EventError):
            number_from_text("duration_seconds", text, whole=False)


@pytest.mark.parametrize("value", [5.0, "5", True, None, [5]])
def test_counts_must_be_integers_in_events(value):
    with pytest.raises(EventError, match="input_tokens: must be a whole number"):
        parse_event({**TOKENS, "input_tokens": value})


# -- names --------------------------------------------------------------------


@given(st.text(min_size=1, max_size=20))
def test_names_are_nfc_and_printable_or_refused(name):
    for form in ("NFC", "NFD"):
        variant = unicodedata.normalize(form, name)
        try:
            label = label_value("model", variant)
        except EventError as exc:
            assert exc.field == "model"
            continue
        assert label == unicodedata.normalize("NFC", name).strip()
        assert label.isprintable()


@pytest.mark.parametrize(
    "name",
    ["a\u200bb", "a\u202eb", "a\u2028b", "a\u2029b", "a\u00a0b", "a\tb", "a\x00b", "a\u2066b"],
)
def test_invisible_bidi_and_separator_characters_are_refused_everywhere(name):
    for field, persona in (("persona", True), ("model", False), ("chatmode", False)):
        with pytest.raises(EventError, match=r"U\+"):
            label_value(field, name, persona=persona)


def test_names_that_render_alike_are_one_series():
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    assert label_value("persona", composed, persona=True) == label_value(
        "persona", decomposed, persona=True
    )


@pytest.mark.parametrize("name", ["none", "None", " NONE ", "__other__", "__x"])
def test_reserved_persona_names_are_refused(name):
    with pytest.raises(EventError, match="reserved"):
        parse_event({**TOKENS, "persona": name})


def test_from_persona_none_means_no_previous_persona():
    event = parse_event({"type": "persona_switched", "to_persona": "qa", "from_persona": "none"})
    assert event.from_persona is None


# -- duplicate keys ---------------------------------------------------------------


def test_duplicate_keys_in_the_config_are_refused_with_their_line():
    with pytest.raises(ConfigError, match=r"c.yml:3: budgets.qa: is given twice"):
        parse_config("budgets:\n  qa: {tokens: 1}\n  qa: {tokens: 2}\n", "c.yml")


def test_duplicate_keys_in_the_web_config_are_refused(tmp_path):
    path = tmp_path / "web.yml"
    path.write_text("http_server_config: {}\nhttp_server_config: {}\n")
    with pytest.raises(ConfigError, match="2: http_server_config: is given twice"):
        load_web_config(path)


# -- negotiation ------------------------------------------------------------------

PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;"
    "version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)


@pytest.mark.parametrize(
    ("accept", "openmetrics", "version"),
    [
        (PROMETHEUS_ACCEPT, True, "1.0.0"),
        ("application/openmetrics-text; version=0.0.1", True, "0.0.1"),
        ("application/openmetrics-text", True, "1.0.0"),
        ("application/openmetrics-text; version=2.0.0", False, "0.0.4"),
        ("application/openmetrics-text;q=0, text/plain", False, "0.0.4"),
        ("", False, "0.0.4"),
        ("text/plain;version=0.0.4", False, "0.0.4"),
    ],
)
def test_openmetrics_is_negotiated_as_prometheus_asks(accept, openmetrics, version):
    chosen, content_type = choose_format(accept)
    assert chosen is openmetrics and f"version={version}" in content_type


@pytest.mark.parametrize(
    ("header", "gzip"),
    [
        ("gzip", True),
        ("gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("*", True),
        ("br", False),
        ("", False),
        ("identity, gzip;q=0.5", True),
        ("*;q=0", False),
    ],
)
def test_gzip_honours_q_values(header, gzip):
    assert accepts_gzip(header) is gzip


# -- credentials ------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Basic " + base64.b64encode(b"alice:" + b"x" * 100).decode(),  # > 72 bytes
        "Basic " + base64.b64encode(b"\xff\xfe:pw").decode(),  # not UTF-8
        "Basic ***",
        "Basic " + "A" * 10_000,
        "Basic \u00e9\u00e9",
        "Bearer x",
        "",
    ],
)
def test_malformed_basic_auth_is_refused_never_raises(header):
    hashed = bcrypt.hashpw(b"secret", bcrypt.gensalt(4))
    assert WebConfig(users={"alice": hashed}).check_basic_auth(header) is Auth.DENIED


def test_a_hash_bcrypt_cannot_check_fails_at_start_up(tmp_path):
    path = tmp_path / "web.yml"
    path.write_text("basic_auth_users:\n  alice: $2b$10$not-a-real-hash\n")
    with pytest.raises(ConfigError, match=r"basic_auth_users\.alice"):
        load_web_config(path)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_config_loader_fuzz_answers_with_config_errors_only(text):
    with contextlib.suppress(ConfigError):  # anything else would fail the test
        parse_config(text, "fuzz.yml")


def _without_orjson(encode, event):
    """``encode(event)`` as a process without ``orjson`` loaded (the recording CLI) runs it."""
    import orjson  # noqa: F401  (loaded, so that it can be hidden)

    saved = sys.modules.pop("orjson")
    try:
        return encode(event)
    finally:
        sys.modules["orjson"] = saved


@settings(max_examples=300, deadline=None)
@given(
    persona=st.text(min_size=1, max_size=12),
    model=st.text(min_size=1, max_size=12),
    inp=st.integers(0, 10**8),
    ts=st.floats(0, 1e10),
    cost=st.none() | st.floats(0, 1e6),
)
def test_the_journal_row_of_an_event_reads_back_exactly(persona, model, inp, ts, cost):
    import json

    from hypertool_exporter.journal.rows import decode, encode, names_of

    try:
        event = parse_event(
            {
                "type": "tokens_used",
                "persona": persona,
                "model": model,
                "input_tokens": inp,
                "ts": ts,
                "cost_usd": cost,
            }
        )
    except EventError:
        return
    ids = {name: n for n, name in enumerate(dict.fromkeys(names_of(event)), start=1)}
    names = {n: name for name, n in ids.items()}
    row = encode(event, ids.__getitem__)
    assert decode(row[1], row[0], row[2], names, names.__getitem__) == event
    # The same values whether or not ``orjson`` is loaded (the recording CLI has not).
    plain = _without_orjson(lambda e: encode(e, ids.__getitem__), event)
    assert plain[:2] == row[:2] and json.loads(plain[2]) == json.loads(row[2])
