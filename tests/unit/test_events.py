import math
import pickle

import pytest

from hypertool_exporter.model.events import (
    EVENT_CLASSES,
    PersonaSwitched,
    StageFinished,
    TokensUsed,
    event_to_dict,
    parse_event,
)
from hypertool_exporter.model.fields import EventError, normalize_persona, number_from_text


def tokens(**over):
    raw = {
        "type": "tokens_used",
        "persona": "backend-engineer",
        "model": "gpt-4",
        "input_tokens": 10,
        "output_tokens": 5,
        "ts": 1000.0,
    }
    raw.update(over)
    return raw


def test_round_trip_through_json_form():
    event = parse_event(tokens(chatmode="implement"))
    assert event == TokensUsed("backend-engineer", "gpt-4", 10, 5, "implement", 1000.0)
    assert parse_event(event_to_dict(event)) == event


@pytest.mark.parametrize("cls", list(EVENT_CLASSES.values()), ids=list(EVENT_CLASSES))
@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_every_event_comes_back_from_pickle_as_it_went(cls, protocol):
    """Mapping workers and replay helpers send events pickled: each field,
    its defaults included, and the class come back."""
    fields = [f"v{i}" if i % 2 else i for i in range(len(cls._fields))]
    event = cls(*fields)
    back = pickle.loads(pickle.dumps(event, protocol=protocol))
    assert type(back) is cls
    assert back == event and list(back) == fields


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("input_tokens", -1, "must not be negative"),
        ("input_tokens", 1.5, "whole number"),
        ("input_tokens", math.nan, "whole number"),
        ("output_tokens", math.inf, "whole number"),
        ("output_tokens", 10**12, "at most"),
        ("input_tokens", True, "whole number"),
        ("input_tokens", "12x", "whole number"),
        ("persona", "", "must not be empty"),
        ("persona", "   ", "must not be empty"),
        ("persona", "a" * 200, "at most 128"),
        ("model", "gpt\n4", "control characters"),
        ("model", "bad\udcffutf8", "UTF-8"),
        ("persona", "__other__", "reserved"),
        ("persona", 42, "must be a string"),
        ("ts", -1, "must not be negative"),
    ],
)
def test_bad_values_name_the_field_and_value(field, value, words):
    with pytest.raises(EventError) as info:
        parse_event(tokens(**{field: value}))
    assert info.value.field == field
    assert words in str(info.value)
    assert str(info.value).startswith(f"{field}: ")


def test_unknown_type_and_unknown_field_are_named():
    with pytest.raises(EventError) as info:
        parse_event({"type": "tokens_burned"})
    assert info.value.code == "unknown_type" and info.value.value == "tokens_burned"
    with pytest.raises(EventError) as info:
        parse_event(tokens(prompt="tell me a secret"))
    assert info.value.field == "prompt"
    with pytest.raises(EventError) as info:
        parse_event(["not", "an", "object"])
    assert info.value.code == "malformed"


def test_numbers_are_integers_over_http_and_plain_digits_on_a_command_line():
    with pytest.raises(EventError, match="input_tokens: must be a whole number"):
        parse_event(tokens(input_tokens="600"))  # a JSON string is not a JSON integer
    with pytest.raises(EventError, match="input_tokens: must be a whole number"):
        parse_event(tokens(input_tokens=600.0))
    assert number_from_text("input_tokens", "600", whole=True) == 600


def test_gate_accepts_booleans_and_words_only():
    raw = {
        "type": "stage_finished",
        "workflow": "w",
        "stage": "s",
        "persona": "p",
        "duration_seconds": 1,
        "ts": 1.0,
    }
    assert parse_event({**raw, "gate": True}).gate == "passed"
    assert parse_event({**raw, "gate": "failed"}).gate == "failed"
    assert parse_event(raw).gate is None
    with pytest.raises(EventError, match="gate: must be 'passed' or 'failed'"):
        parse_event({**raw, "gate": "maybe"})
    with pytest.raises(EventError, match="duration_seconds: must be finite"):
        StageFinished.parse({**raw, "duration_seconds": float("inf")})
    with pytest.raises(EventError, match="duration_seconds: must be a number of seconds"):
        StageFinished.parse({**raw, "duration_seconds": "inf"})


def test_persona_names_are_normalised_everywhere():
    assert normalize_persona("  Backend Engineer ") == "backend-engineer"
    assert normalize_persona("backend_engineer") == "backend-engineer"
    event = PersonaSwitched.parse(
        {"to_persona": "Testing Specialist", "from_persona": "DevOps_Engineer"}
    )
    assert (event.to_persona, event.from_persona) == ("testing-specialist", "devops-engineer")


def test_missing_timestamp_means_now():
    raw = tokens()
    del raw["ts"]
    assert parse_event(raw).ts > 1.7e9
