import pytest

from hypertool_exporter.model.budgets import Budget
from hypertool_exporter.model.config import ConfigError, load_config, parse_config


def test_example_config(example_config):
    assert example_config.budgets["backend-engineer"] == Budget("daily", tokens=5000)
    assert example_config.budgets["default"] == Budget("monthly", tokens=100000)
    assert example_config.prices.cost("gpt-4", 0.0, 1000, 0) == 0.03
    # The price database stays available next to the overrides.
    assert example_config.prices.lookup("claude-sonnet-4", 1.8e9) is not None


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("pricing:\n  m: {input: 1}\n", "pricing.m.output", "is required"),
        ("pricing:\n  m: {input: 1, output: 2, cached: 1}\n", "pricing.m.cached", "unknown field"),
        ("pricing:\n  m: {input: 1, output: -2}\n", "pricing.m.output", "not negative"),
    ],
)
def test_bad_pricing_entries_name_the_field(text, field, reason):
    with pytest.raises(ConfigError) as info:
        parse_config(text, "p.yml")
    assert field in str(info.value) and reason in str(info.value)


def test_pricing_takes_cache_rates():
    config = parse_config(
        "pricing:\n  m: {input: 1, output: 2, cache_read: 0.1, cache_write: 1.25}\n"
    )
    price = config.prices.lookup("m", 0.0)
    assert (price.cache_read, price.cache_write) == (0.1, 1.25)


def test_persona_keys_are_normalised():
    config = parse_config("budgets:\n  Backend Engineer: {tokens: 1}\n")
    assert "backend-engineer" in config.budgets


@pytest.mark.parametrize(
    ("text", "line", "field", "value"),
    [
        ("budgets:\n  a: {tokens: -5, period: daily}\n", 2, "budgets.a.tokens", -5),
        ("budgets:\n  a:\n    tokens: 10\n    period: hourly\n", 4, "budgets.a.period", "hourly"),
        ("budgets:\n  a: {tokens: lots}\n", 2, "budgets.a.tokens", "lots"),
        ("budgets:\n  a: {period: daily}\n", 2, "budgets.a", "{...}"),
        ("budgets:\n  a: {tokens: 1, colour: red}\n", 2, "budgets.a.colour", "colour"),
        ("pricing:\n  m: {input: 0.1}\n", 2, "pricing.m.output", None),
        ("pricing:\n  m: {input: .nan, output: 1}\n", 2, "pricing.m.input", None),
        ("budget:\n  a: {tokens: 1}\n", 1, "budget", "budget"),
        ("limits: {max_label_values: 0}\n", 1, "limits.max_label_values", 0),
        ("budgets: [1, 2]\n", 1, "budgets", "[...]"),
    ],
)
def test_errors_name_line_field_and_value(text, line, field, value):
    with pytest.raises(ConfigError) as info:
        parse_config(text, "bad.yml")
    error = info.value
    assert (error.line, error.field) == (line, field)
    if value is not None:
        assert error.value == value
    assert str(error).startswith(f"bad.yml:{line}: {field}: ")


def test_invalid_yaml_and_missing_file(tmp_path):
    with pytest.raises(
        ConfigError,
        match=r"bad.yml:3: <yaml>: not valid YAML: expected ',' or '}'.*started on line 2\)$",
    ):  # the file is not YAML: no "(got ...)" of a value
        parse_config("budgets:\n  a: {tokens: 1\n", "bad.yml")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path / "missing.yml")


def test_empty_file_means_defaults():
    config = parse_config("", "empty.yml")
    assert config.budgets == {} and config.max_label_values == 1000


def test_ingest_credentials_come_from_the_environment_over_the_config_and_are_checked():
    import pytest

    from hypertool_exporter.app import ingest_credentials
    from hypertool_exporter.model.config import parse_config

    config = parse_config(
        "ingest:\n  token: config-token-0123456789\n"
        "  langfuse_public_key: pk-lf-config-0123456789\n"
        "  langfuse_secret_key: sk-lf-config-0123456789\n"
    )
    assert ingest_credentials(config, {}) == (
        "config-token-0123456789",
        ("pk-lf-config-0123456789", "sk-lf-config-0123456789"),
    )
    env = {
        "HYPERTOOL_INGEST_TOKEN": "env-token-0123456789",
        "HYPERTOOL_LANGFUSE_PUBLIC_KEY": "pk-lf-env-0123456789",
        "HYPERTOOL_LANGFUSE_SECRET_KEY": "sk-lf-env-0123456789",
    }
    assert ingest_credentials(config, env) == (
        "env-token-0123456789",
        ("pk-lf-env-0123456789", "sk-lf-env-0123456789"),
    )
    with pytest.raises(
        ValueError, match=r"HYPERTOOL_INGEST_TOKEN: must be at least 16 characters \(got 5\)"
    ):
        ingest_credentials(config, {**env, "HYPERTOOL_INGEST_TOKEN": "short"})
    with pytest.raises(ValueError, match=r"HYPERTOOL_LANGFUSE_SECRET_KEY: must be at least 16"):
        ingest_credentials(config, {**env, "HYPERTOOL_LANGFUSE_SECRET_KEY": "sk-lf-x"})
    with pytest.raises(ValueError, match="go together; only one is set"):
        ingest_credentials(config, {"HYPERTOOL_LANGFUSE_PUBLIC_KEY": "pk-lf-env-0123456789"})
