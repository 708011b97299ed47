"""Cache and reasoning tokens everywhere: validation, the journal's per-day
rows (and their migration), ``stats``, and usage read from LLM responses."""

import json
import sqlite3
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from genai_prices import extract_usage as genai_extract_usage

from hypertool_exporter.cli.stats import as_json, collect_stats, format_table
from hypertool_exporter.instrument.usage import TokenUsage, extract_usage
from hypertool_exporter.journal.rows import KINDS, decode_v3
from hypertool_exporter.journal.store import SCHEMA_VERSION, Journal
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.events import TokensUsed, parse_event
from hypertool_exporter.model.fields import EventError

NOW = datetime(2026, 11, 2, 12, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("fields", "field", "reason"),
    [
        ({"cache_read_tokens": -1}, "cache_read_tokens", "must not be negative"),
        ({"cache_write_tokens": 1.5}, "cache_write_tokens", "must be a whole number"),
        ({"reasoning_tokens": "many"}, "reasoning_tokens", "must be a whole number"),
        (
            {"input_tokens": 100, "cache_read_tokens": 101},
            "cache_read_tokens",
            "is part of input_tokens and must not exceed it (input_tokens is 100)",
        ),
        (
            {"input_tokens": 100, "cache_read_tokens": 60, "cache_write_tokens": 50},
            "cache_write_tokens",
            "must not exceed it",
        ),
        (
            {"output_tokens": 10, "reasoning_tokens": 11},
            "reasoning_tokens",
            "is part of output_tokens",
        ),
        ({"cost_usd": -0.01}, "cost_usd", "must not be negative"),
        ({"cost_usd": "free"}, "cost_usd", "must be a number of US dollars"),
        ({"cost_usd": float("nan")}, "cost_usd", "must be finite"),
    ],
)
def test_bad_token_counts_are_refused_by_name(fields, field, reason):
    raw = {"type": "tokens_used", "persona": "qa", "model": "m", **fields}
    with pytest.raises(EventError) as info:
        parse_event(raw)
    assert info.value.field == field
    assert reason in str(info.value)


def test_an_event_survives_the_journal_with_every_field(tmp_path):
    event = TokensUsed("qa", "gpt-4o", 100, 50, "c", NOW, None, 20, 10, 5, 0.25)  # every field set
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.append([event])
        (_, kind, ts, body), *_ = journal.read_after(0)
        assert journal.event_of(kind, ts, body) == event


#: The journal stores fields by position (``journal.rows``): a
#: field may be added at the end of its class, never moved or removed.
JOURNAL_FIELD_ORDER = {
    "persona_switched": ("to_persona", "chatmode", "from_persona", "session", "ts"),
    "tokens_used": (
        "persona", "model", "input_tokens", "output_tokens", "chatmode", "ts", "trace_id",
        "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd",
        "operation", "provider", "workflow", "stage",
    ),
    "stage_finished": (
        "workflow", "stage", "persona", "duration_seconds", "gate", "ts", "trace_id",
    ),
    "llm_call_finished": (
        "persona", "model", "duration_seconds", "error_type", "ts", "trace_id",
        "usage_unknown", "operation", "provider", "ttft_seconds",
    ),
    "workflow_run_finished": (
        "workflow", "result", "duration_seconds", "persona", "ts", "trace_id",
    ),
    "tool_call_finished": ("persona", "tool", "duration_seconds", "error_type", "ts", "trace_id"),
    "quality_scored": ("persona", "evaluation", "score", "label", "ts", "trace_id"),
    "workflow_charged": (
        "workflow", "stage", "model", "input_tokens", "output_tokens", "ts",
        "cache_read_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd", "trace_id",
    ),
}  # fmt: skip


def test_event_fields_only_grow_at_the_end():
    from hypertool_exporter.model.events import EVENT_CLASSES

    for kind, cls in EVENT_CLASSES.items():
        stored = JOURNAL_FIELD_ORDER[kind]
        assert cls._fields[: len(stored)] == stored, f"{kind}: append new fields at the end"
    # Rows name their class by these codes: a code is never given to another class.
    assert {k: v for k, v in KINDS.items() if k in JOURNAL_FIELD_ORDER} == {
        "persona_switched": 1, "tokens_used": 2, "stage_finished": 3, "llm_call_finished": 4,
        "workflow_run_finished": 5, "tool_call_finished": 6, "quality_scored": 7,
        "workflow_charged": 8,
    }  # fmt: skip


def _one_at_a_time(journal, kind, ts, body):
    return journal.event_of(kind, ts, body)


def _as_a_replay_does(journal, kind, ts, body):
    """The row between two good ones, through the replay's loop over many
    rows, which sets aside a row that is not an event and keeps the others."""
    good = journal.read_after(0)[0]
    events, rejected = journal.events_of([good, (99, kind, ts, body), good])
    assert events[0] == events[-1] == journal.event_of(*good[1:])
    if rejected:
        [(row_id, code, why)] = rejected
        assert row_id == 99 and len(events) == 2
        with pytest.raises(EventError) as info:  # the same error, said the same way
            journal.event_of(kind, ts, body)
        assert (code, why) == (info.value.code, str(info.value))
        raise info.value
    return events[1]


@pytest.mark.parametrize("read", [_one_at_a_time, _as_a_replay_does])
def test_journal_rows_are_compact_and_refuse_what_is_not_an_event(tmp_path, read):
    event = TokensUsed("backend-engineer", "gpt-4o", 100, 50, "default", NOW)
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.append([event, TokensUsed("qa", "gpt-4o", 1, 0, "default", NOW)])
        [(_, kind, ts, body), (_, _, _, second)] = journal.read_after(0)
        # Names by id (the second row reuses the model's), the time in its own column.
        assert (kind, ts, json.loads(body)) == (KINDS["tokens_used"], NOW, [1, 2, 100, 50, 3])
        assert json.loads(second) == [4, 2, 1, 0, 3]
        assert read(journal, kind, ts, body) == event
        with pytest.raises(EventError, match="is not a row of tokens_used"):
            read(journal, kind, ts, json.dumps([1, 2, *range(20)]))
        with pytest.raises(EventError) as info:
            read(journal, kind, ts, "[1, 2, -1]")
        assert info.value.field == "input_tokens"
        with pytest.raises(EventError, match="a name the journal does not hold"):
            read(journal, kind, ts, "[1, 99, 1]")
        for damaged, field in (
            ('[1, 2, "many"]', "input_tokens"),
            ("[1, 2, true]", "input_tokens"),  # a flag is not a count
            ("[1, 2.0, 1]", "model"),  # a name's id is a whole number
            ("[1, 2, 1, 0, 3, null, 0, 0, 0, -0.5]", "cost_usd"),
        ):
            with pytest.raises(EventError) as info:
                read(journal, kind, ts, damaged)
            assert info.value.field == field, damaged
        with pytest.raises(EventError, match="must be one of"):
            read(journal, 9, ts, body)
        # A name written as text, not as its id, is still that name.
        assert read(journal, kind, ts, '["qa", 2, 1]').persona == "qa"
        # A whole number where a float is due reads as that float.
        reported = read(journal, kind, ts, "[1, 2, 100, 50, 3, null, 0, 0, 0, 2]")
        assert reported.cost_usd == 2.0 and type(reported.cost_usd) is float


def test_older_rows_read_as_they_were_written():
    event = TokensUsed("qa", "gpt-4o", 100, 50, "default", NOW)
    positional = json.dumps(["qa", "gpt-4o", 100, 50, "default", NOW])  # schema 3
    older = json.dumps({"type": "tokens_used", "persona": "qa", "model": "gpt-4o",
                        "input_tokens": 100, "output_tokens": 50, "ts": NOW})  # fmt: skip
    assert decode_v3("tokens_used", positional) == decode_v3("tokens_used", older) == event
    with pytest.raises(EventError, match="more values than tokens_used has fields"):
        decode_v3("tokens_used", json.dumps([*event, 1, 2, 3, 4, 5, 6, 7, 8]))


V1_SCHEMA = """
CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL,
    type TEXT NOT NULL, persona TEXT, body TEXT NOT NULL);
CREATE TABLE daily (day INTEGER NOT NULL, persona TEXT NOT NULL, model TEXT NOT NULL,
    input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0,
    switches INTEGER NOT NULL DEFAULT 0, failed_gates INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, persona, model));
CREATE TABLE snapshot (k INTEGER PRIMARY KEY CHECK (k = 1), last_id INTEGER NOT NULL,
    taken_at REAL NOT NULL, state TEXT NOT NULL);
PRAGMA user_version = 1;
"""


def test_a_schema_1_journal_is_migrated_in_place_and_keeps_its_totals(tmp_path):
    path = tmp_path / "old.sqlite"
    day = int(NOW // 86400)
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA)
        db.execute("INSERT INTO daily VALUES (?, 'qa', 'gpt-4', 600, 250, 0, 0)", (day,))
        db.execute("INSERT INTO daily VALUES (?, 'qa', '', 0, 0, 3, 1)", (day,))
    config = parse_config("pricing:\n  gpt-4: {input: 0.03, output: 0.06}\n")
    with Journal(path, create=False) as journal:
        assert journal.query("PRAGMA user_version") == [(SCHEMA_VERSION,)]
        [qa] = collect_stats(journal, config, "today", now=NOW)
        journal.append([TokensUsed("qa", "gpt-4", 100, 0, ts=NOW, cache_read_tokens=40)])
    assert (qa.input_tokens, qa.output_tokens, qa.switches, qa.failed_gates) == (600, 250, 3, 1)
    assert qa.cost_usd == pytest.approx(0.033)
    with Journal(path) as journal:  # opening again changes nothing
        [qa] = collect_stats(journal, config, "today", now=NOW)
    assert (qa.input_tokens, qa.cache_read_tokens) == (700, 40)


def test_a_schema_3_journal_is_rewritten_compact_and_replays_the_same(tmp_path):
    from hypertool_exporter.fold.state import MetricState
    from hypertool_exporter.journal.rollup import DAILY_TABLE
    from hypertool_exporter.model.events import LLMCallFinished, PersonaSwitched, event_to_dict
    from hypertool_exporter.sync.tailer import JournalTailer

    events = [
        TokensUsed("qa", "gpt-4o", 100, 50, "review", NOW, "0af7651916cd43dd8448eb211c80319c"),
        LLMCallFinished("qa", "gpt-4o", 1.5, "timeout", NOW + 1, usage_unknown=False),
        PersonaSwitched("backend-engineer", "default", "qa", "s1", NOW + 2),
        TokensUsed("backend-engineer", "claude-sonnet-4", 7, 3, ts=NOW + 3, cost_usd=0.5),
    ]
    path = tmp_path / "v3.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts REAL NOT NULL, "
            "type TEXT NOT NULL, persona TEXT, body TEXT NOT NULL);"
            "CREATE TABLE snapshot (k INTEGER PRIMARY KEY CHECK (k = 1), last_id INTEGER "
            "NOT NULL, taken_at REAL NOT NULL, state TEXT NOT NULL);"
            + DAILY_TABLE
            + ";CREATE TABLE seen_keys (key TEXT PRIMARY KEY, ts REAL NOT NULL);"
            "PRAGMA user_version = 3;"
        )
        for n, event in enumerate(events):  # objects (schema 2) and arrays (schema 3)
            body = json.dumps(event_to_dict(event) if n % 2 else list(event))
            db.execute(
                "INSERT INTO events (ts, type, persona, body) VALUES (?, ?, '', ?)",
                (event.ts, event.TYPE, body),
            )
        db.execute("INSERT INTO events (ts, type, body) VALUES (?, 'tokens_used', '[oops')", (NOW,))
        db.execute("INSERT INTO events (ts, type, body) VALUES (?, 'tokens_used', '[]')", (NOW,))
        db.execute("DELETE FROM events WHERE id = 6")  # the newest id was given out once
    with Journal(path) as journal:
        assert journal.query("PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert [row[0] for row in journal.read_after(0)] == [1, 2, 3, 4]  # ids kept
        assert journal.query("PRAGMA auto_vacuum") == [(2,)]  # compaction can shrink it now
        journal.append([TokensUsed("qa", "gpt-4o", 1, 0, ts=NOW + 4)])
        assert journal.last_id() == 7  # never an id given out before
    direct = MetricState()
    for event in [*events, TokensUsed("qa", "gpt-4o", 1, 0, ts=NOW + 4)]:
        direct.apply(event)
    state = MetricState()
    tailer = JournalTailer(state, path)
    tailer.open()
    tailer.catch_up()
    tailer.stop()
    assert state.to_json() == direct.to_json()


def test_stats_show_cache_reasoning_and_the_cost_split(tmp_path):
    with Journal(tmp_path / "j.sqlite") as journal:
        journal.append(
            [
                # gpt-4o: 2,000 x 2.50 + 8,000 x 1.25 + 500 x 10 per 1M = $0.02 estimated
                TokensUsed("qa", "gpt-4o", 10_000, 500, ts=NOW, cache_read_tokens=8_000),
                TokensUsed("qa", "routed", 100, 80, ts=NOW, reasoning_tokens=30, cost_usd=0.5),
                TokensUsed("qa", "local-llama-3", 7, 3, ts=NOW),
            ]
        )
        [qa] = collect_stats(journal, parse_config(""), "today", now=NOW)
    assert qa.estimated_cost_usd == pytest.approx(0.02)
    assert qa.reported_cost_usd == pytest.approx(0.5)
    assert (qa.cache_read_tokens, qa.reasoning_tokens, qa.unpriced_tokens) == (8_000, 30, 10)
    assert qa.tokens == 10_000 + 500 + 100 + 80 + 7 + 3
    table = format_table([qa], "today", wide=True)
    for heading in ("CACHE_READ", "REASONING", "ESTIMATED", "REPORTED", "UNPRICED"):
        assert heading in table and heading not in format_table([qa], "today")
    [row] = as_json([qa])
    assert row["cost_usd"] == 0.52 and row["estimated_cost_usd"] == 0.02


# Complete responses in each provider's wire format.
OPENAI_CHAT = {
    "model": "gpt-4o-2024-08-06",
    "usage": {
        "prompt_tokens": 1000,
        "completion_tokens": 200,
        "prompt_tokens_details": {"cached_tokens": 800},
        "completion_tokens_details": {"reasoning_tokens": 50},
    },
}
OPENAI_RESPONSES = {
    "model": "gpt-5",
    "output": [],
    "usage": {
        "input_tokens": 100,
        "output_tokens": 20,
        "input_tokens_details": {"cached_tokens": 50},
        "output_tokens_details": {"reasoning_tokens": 10},
    },
}
ANTHROPIC = {
    "model": "claude-sonnet-4-20250514",
    "usage": {
        "input_tokens": 100,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 500,
        "output_tokens": 97,
    },
}
GEMINI = {
    "modelVersion": "gemini-2.5-pro",
    "usageMetadata": {
        "promptTokenCount": 1000,
        "candidatesTokenCount": 100,
        "cachedContentTokenCount": 400,
        "thoughtsTokenCount": 30,
    },
}


@pytest.mark.parametrize(
    ("response", "provider", "flavor"),
    [
        (OPENAI_CHAT, "openai", "chat"),
        (OPENAI_RESPONSES, "openai", "responses"),
        (ANTHROPIC, "anthropic", None),
        (GEMINI, "google", None),
    ],
)
def test_usage_reader_agrees_with_genai_prices(response, provider, flavor):
    kwargs = {"api_flavor": flavor} if flavor else {}
    theirs = genai_extract_usage(response, provider_id=provider, **kwargs).usage
    ours = extract_usage(response)
    assert ours is not None
    assert ours.input_tokens == theirs.input_tokens
    assert ours.output_tokens == theirs.output_tokens
    assert ours.cache_read_tokens == theirs.cache_read_tokens
    assert ours.cache_write_tokens == theirs.cache_write_tokens
    assert ours.reasoning_tokens == theirs.output_reasoning_tokens


def test_usage_from_sdk_objects_streams_and_reported_costs():
    # SDK objects (attributes, not keys), Anthropic's stream split over two chunks.
    start = SimpleNamespace(
        type="message_start",
        message=SimpleNamespace(
            usage=SimpleNamespace(
                input_tokens=10, cache_creation_input_tokens=0, cache_read_input_tokens=90
            )
        ),
    )
    delta = SimpleNamespace(type="message_delta", usage=SimpleNamespace(output_tokens=40))
    usage = TokenUsage()
    usage.merge(extract_usage(start))
    usage.merge(extract_usage(delta))
    assert (usage.input_tokens, usage.cache_read_tokens, usage.output_tokens) == (100, 90, 40)
    # OpenRouter reports its cost in the usage; LiteLLM in _hidden_params.
    routed = {"model": "x", "usage": {"prompt_tokens": 5, "completion_tokens": 1, "cost": 0.002}}
    assert extract_usage(routed).cost_usd == 0.002
    litellm = SimpleNamespace(
        usage=SimpleNamespace(prompt_tokens=5, completion_tokens=1),
        _hidden_params={"response_cost": 0.003},
    )
    assert extract_usage(litellm).cost_usd == 0.003
    assert extract_usage({"choices": []}) is None
