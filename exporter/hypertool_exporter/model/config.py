"""The config file: budgets, pricing and limits, validated with line numbers.

A malformed file stops start-up with ``FILE:LINE: field.path: reason (got
value)``, because a budget that silently falls back to a default is worse
than an exporter that refuses to start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .budgets import PERIODS, SCOPES, Budget
from .fields import normalize_persona
from .price_database import genai_prices_lookup
from .pricing import Price, PriceTable
from .span_sources import SpanMapping
from .yamlfile import ConfigError, Reader, compose, plain, read_text

TYPE_CHECKING = False
if TYPE_CHECKING:  # PyYAML loads with a config file (``yamlfile``)
    import yaml

DEFAULT_MAX_LABEL_VALUES = 1000
#: Shortest ingest token accepted, from the config file or HYPERTOOL_INGEST_TOKEN.
MIN_TOKEN_LENGTH = 16
#: What a recorded event survives once recorded, weakest first
#: (docs/reliability.md): ``buffered`` (committed within 20 ms: a crash loses
#: that window), ``process`` (committed before the call returns: survives a
#: crash of the process) and ``power`` (fsynced too: survives power loss).
DURABILITY_LEVELS = ("buffered", "process", "power")
#: Days of events kept in the journal for ``stats`` (the snapshot keeps the totals).
DEFAULT_RETENTION_DAYS = 40
DEFAULT_SNAPSHOT_SECONDS = 10.0
_TOP_LEVEL = ("budgets", "pricing", "limits", "ingest", "journal", "metrics", "otlp")


@dataclass
class Config:
    """Everything the exporter reads from its config file."""

    budgets: dict[str, Budget] = field(default_factory=dict)
    prices: PriceTable = field(default_factory=lambda: prices_with({}))
    max_label_values: int = DEFAULT_MAX_LABEL_VALUES
    ingest_token: str | None = None
    retention_days: float = DEFAULT_RETENTION_DAYS
    snapshot_interval: float = DEFAULT_SNAPSHOT_SECONDS
    #: What an acknowledged event survives (``DURABILITY_LEVELS``).
    durability: str = "buffered"
    source: str | None = None
    #: Emit the OpenTelemetry GenAI convention metrics (``gen_ai_client_*``).
    genai_metrics: bool = True
    #: Upper bounds of ``hypertool_quality_score``'s buckets, for scores on
    #: another scale than 0..1 (``None``: a bucket per tenth of 0..1).
    quality_score_buckets: tuple[float, ...] | None = None
    #: Langfuse-style Basic auth for OTLP ingest: (public key, secret key).
    langfuse_keys: tuple[str, str] | None = None
    #: Where spans name the persona and chat mode (``otlp`` section).
    span_mapping: SpanMapping = field(default_factory=SpanMapping)
    #: Processes that map large OTLP exports (``otlp.workers``); ``None``:
    #: ``auto`` (``http.mapping_pool.default_workers``).
    otlp_workers: int | None = None


def prices_with(overrides: dict[str, Price]) -> PriceTable:
    """The config's prices first, then genai-prices (imported on first lookup,
    so processes that never price, like the recording CLI, never load it)."""
    return PriceTable(overrides, genai_prices_lookup)


def parse_config(text: str, source: str = "<config>") -> Config:
    """Parse and validate config text. Raises ``ConfigError``."""
    root = compose(text, source)
    config = Config(source=source)
    if root is None:
        return config
    reader = Reader(source)
    overrides: dict[str, Price] = {}
    for key, key_node, node in reader.mapping(root, "<top>"):
        if key == "budgets":
            config.budgets = _budgets(reader, node)
        elif key == "pricing":
            overrides = _pricing(reader, node)
        elif key == "limits":
            config.max_label_values = _limits(reader, node)
        elif key == "ingest":
            _ingest(reader, node, config)
        elif key == "journal":
            _journal(reader, node, config)
        elif key == "metrics":
            _metrics(reader, node, config)
        elif key == "otlp":
            _otlp(reader, node, config)
        else:
            raise reader.fail(key_node, key, key, f"unknown section; expected {_TOP_LEVEL}")
    config.prices = prices_with(overrides)
    return config


def _budgets(reader: Reader, node: yaml.Node) -> dict[str, Budget]:
    budgets: dict[str, Budget] = {}
    for name, key_node, entry in reader.mapping(node, "budgets"):
        persona = normalize_persona(name)
        path = f"budgets.{name}"
        if not persona:
            raise reader.fail(key_node, path, name, "persona name must not be empty")
        values: dict[str, Any] = {}
        for field_name, field_key, value_node in reader.mapping(entry, path):
            field_path = f"{path}.{field_name}"
            if field_name == "tokens":
                values["tokens"] = reader.number(value_node, field_path, whole=True)
            elif field_name == "usd":
                values["usd"] = reader.number(value_node, field_path)
            elif field_name == "scope":
                values["scope"] = reader.choice(value_node, field_path, SCOPES)
            elif field_name == "period":
                values["period"] = reader.choice(value_node, field_path, PERIODS)
            else:
                raise reader.fail(
                    field_key,
                    field_path,
                    field_name,
                    "unknown field; expected tokens, usd, period, scope",
                )
        if "tokens" not in values and "usd" not in values:
            raise reader.fail(entry, path, plain(entry), "needs tokens or usd (or both)")
        values.setdefault("period", "monthly")
        budgets[persona] = Budget(**values)
    return budgets


_PRICE_FIELDS = ("input", "output", "cache_read", "cache_write")


def _pricing(reader: Reader, node: yaml.Node) -> dict[str, Price]:
    prices: dict[str, Price] = {}
    for model, _key_node, entry in reader.mapping(node, "pricing"):
        path = f"pricing.{model}"
        values: dict[str, float] = {}
        for field_name, field_key, value_node in reader.mapping(entry, path):
            if field_name not in _PRICE_FIELDS:
                raise reader.fail(
                    field_key,
                    f"{path}.{field_name}",
                    field_name,
                    f"unknown field; expected {', '.join(_PRICE_FIELDS)} (USD per 1K tokens)",
                )
            values[field_name] = reader.number(value_node, f"{path}.{field_name}")
        for required in ("input", "output"):
            if required not in values:
                raise reader.fail(entry, f"{path}.{required}", None, "is required")
        prices[model] = Price(
            values["input"], values["output"], values.get("cache_read"), values.get("cache_write")
        )
    return prices


def _limits(reader: Reader, node: yaml.Node) -> int:
    cap = DEFAULT_MAX_LABEL_VALUES
    for field_name, field_key, value_node in reader.mapping(node, "limits"):
        path = f"limits.{field_name}"
        if field_name != "max_label_values":
            raise reader.fail(
                field_key, path, field_name, "unknown field; expected max_label_values"
            )
        cap = int(reader.number(value_node, path, whole=True))
        if cap < 1:
            raise reader.fail(value_node, path, cap, "must be at least 1")
    return cap


def _ingest(reader: Reader, node: yaml.Node, config: Config) -> None:
    keys: dict[str, str] = {}
    for field_name, field_key, value_node in reader.mapping(node, "ingest"):
        path = f"ingest.{field_name}"
        if field_name not in ("token", "langfuse_public_key", "langfuse_secret_key"):
            raise reader.fail(
                field_key,
                path,
                field_name,
                "unknown field; expected token, langfuse_public_key, langfuse_secret_key",
            )
        value = reader.scalar(value_node, path)
        if not isinstance(value, str) or len(value) < MIN_TOKEN_LENGTH:
            raise reader.fail(
                value_node, path, "<hidden>", f"must be a string of {MIN_TOKEN_LENGTH}+ characters"
            )
        if field_name == "token":
            config.ingest_token = value
        else:
            keys[field_name] = value
    if keys:
        if len(keys) == 1:
            (given,) = keys
            missing = (
                "langfuse_secret_key" if given == "langfuse_public_key" else "langfuse_public_key"
            )
            raise reader.fail(node, f"ingest.{missing}", None, f"is required with ingest.{given}")
        config.langfuse_keys = (keys["langfuse_public_key"], keys["langfuse_secret_key"])


def _metrics(reader: Reader, node: yaml.Node, config: Config) -> None:
    for field_name, field_key, value_node in reader.mapping(node, "metrics"):
        path = f"metrics.{field_name}"
        if field_name == "quality_score_buckets":
            config.quality_score_buckets = _buckets(reader, value_node, path)
            continue
        if field_name != "genai_conventions":
            raise reader.fail(
                field_key,
                path,
                field_name,
                "unknown field; expected genai_conventions, quality_score_buckets",
            )
        value = reader.scalar(value_node, path)
        if not isinstance(value, bool):
            raise reader.fail(value_node, path, value, "must be true or false")
        config.genai_metrics = value


def _buckets(reader: Reader, node: yaml.Node, path: str) -> tuple[float, ...]:
    """Histogram bucket bounds: finite numbers, each greater than the last."""
    import yaml

    if not isinstance(node, yaml.SequenceNode) or not node.value:
        raise reader.fail(node, path, plain(node), "must be a list of bucket bounds")
    bounds: list[float] = []
    for index, item in enumerate(node.value):
        value = reader.scalar(item, f"{path}[{index}]")
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            raise reader.fail(item, f"{path}[{index}]", value, "must be a number")
        if value in (float("inf"), float("-inf")):
            raise reader.fail(item, f"{path}[{index}]", value, "must be finite (+Inf is implied)")
        if bounds and value <= bounds[-1]:
            raise reader.fail(item, f"{path}[{index}]", value, "must be greater than the last")
        bounds.append(float(value))
    return tuple(bounds)


def _otlp(reader: Reader, node: yaml.Node, config: Config) -> None:
    import yaml

    lists = {
        "persona_attributes": config.span_mapping.persona_attributes,
        "chatmode_attributes": config.span_mapping.chatmode_attributes,
    }
    for field_name, field_key, value_node in reader.mapping(node, "otlp"):
        path = f"otlp.{field_name}"
        if field_name == "workers":
            config.otlp_workers = _workers(reader, value_node, path)
            continue
        if field_name not in lists:
            raise reader.fail(
                field_key,
                path,
                field_name,
                "unknown field; expected persona_attributes, chatmode_attributes, workers",
            )
        if not isinstance(value_node, yaml.SequenceNode) or not value_node.value:
            raise reader.fail(
                value_node, path, plain(value_node), "must be a list of attribute names"
            )
        names = []
        for index, item in enumerate(value_node.value):
            name = reader.scalar(item, f"{path}[{index}]")
            if not isinstance(name, str) or not name:
                raise reader.fail(item, f"{path}[{index}]", name, "must be an attribute name")
            names.append(name)
        lists[field_name] = tuple(names)
    config.span_mapping = SpanMapping(lists["persona_attributes"], lists["chatmode_attributes"])


#: More mapping workers than this buy nothing: the recording process is the limit.
MAX_OTLP_WORKERS = 64


def _workers(reader: Reader, node: yaml.Node, path: str) -> int | None:
    """``auto`` (``None``) or a whole number of processes, 0 to map in-process."""
    if reader.scalar(node, path) == "auto":
        return None
    count = int(reader.number(node, path, whole=True))
    if count > MAX_OTLP_WORKERS:
        raise reader.fail(node, path, count, f"must be auto or at most {MAX_OTLP_WORKERS}")
    return count


def _journal(reader: Reader, node: yaml.Node, config: Config) -> None:
    for field_name, field_key, value_node in reader.mapping(node, "journal"):
        path = f"journal.{field_name}"
        if field_name == "retention_days":
            config.retention_days = reader.number(value_node, path)
            if config.retention_days < 32:
                raise reader.fail(
                    value_node,
                    path,
                    config.retention_days,
                    "must be at least 32 so `stats --since month` stays whole",
                )
        elif field_name == "snapshot_interval_seconds":
            config.snapshot_interval = reader.number(value_node, path)
            if config.snapshot_interval < 1:
                raise reader.fail(value_node, path, config.snapshot_interval, "must be at least 1")
        elif field_name == "durability":
            config.durability = reader.choice(value_node, path, DURABILITY_LEVELS)
        else:
            raise reader.fail(
                field_key,
                path,
                field_name,
                "unknown field; expected retention_days, snapshot_interval_seconds, durability",
            )


def load_config(path: str | Path | None) -> Config:
    """Read the config file at ``path``; no path means defaults."""
    if path is None:
        return Config()
    text = read_text(path)
    return parse_config(text, str(path))


__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "DEFAULT_SNAPSHOT_SECONDS",
    "DURABILITY_LEVELS",
    "MIN_TOKEN_LENGTH",
    "Config",
    "ConfigError",
    "load_config",
    "parse_config",
    "prices_with",
]
