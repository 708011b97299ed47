"""YAML files people write, read with bounds: the config and the web config.

Both files go through ``compose`` and a ``Reader``, so they refuse the same
hostile input the same way, with a ``ConfigError`` naming file, line, field
and value: a file past ``MAX_BYTES``, nesting past ``MAX_DEPTH`` (PyYAML's
composer recurses, and would hit Python's recursion limit), more than
``MAX_ALIASES`` aliases (each makes a walk go over its anchor again), a key
given twice (PyYAML keeps the last one silently), and a number Python will
not read (an integer past 4,300 digits).

The file is composed into nodes, not loaded into Python objects: a reader
asks for the fields it knows and keeps each value's line for its errors.

PyYAML is imported by the functions that read a file, not with this module:
``ConfigError`` and the config's defaults are used everywhere, and an
exporter started without a config file never loads it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from .fields import shown

TYPE_CHECKING = False
if TYPE_CHECKING:  # PyYAML loads when a file is read
    import yaml

#: Largest config file read: a config is a page or two of text.
MAX_BYTES = 1 << 20
#: Deepest nesting of mappings and sequences (a config needs four or five).
MAX_DEPTH = 32
#: Largest whole number a field takes (a signed 64-bit integer's largest).
MAX_WHOLE = 2**63 - 1
#: Most aliases (``*name``) in one file.
MAX_ALIASES = 100


#: The value of a ``ConfigError`` that is about the file, not one value in it.
NO_VALUE: Any = object()


class ConfigError(ValueError):
    """A config file problem; the message names file, line, field and value
    (no value for a file that is not YAML at all: ``NO_VALUE``)."""

    def __init__(self, source: str, line: int | None, field: str, value: Any, reason: str):
        self.source, self.line, self.field, self.value = source, line, field, value
        where = f"{source}:{line}" if line is not None else source
        got = "" if value is NO_VALUE else f" (got {shown(value)})"
        super().__init__(f"{where}: {field}: {reason}{got}")


def read_text(path: str | Path) -> str:
    """The text of the file at ``path``: UTF-8, at most ``MAX_BYTES``."""
    source = str(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            source, None, "<file>", source, f"cannot be read: {exc.strerror}"
        ) from None
    if len(data) > MAX_BYTES:
        raise ConfigError(source, None, "<file>", source, f"is larger than {MAX_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(source, None, "<file>", source, "is not UTF-8 text") from None


def compose(text: str, source: str) -> yaml.Node | None:
    """The node tree of ``text`` (``None`` for an empty file), within the bounds."""
    import yaml

    if len(text) > MAX_BYTES:
        raise ConfigError(source, None, "<file>", source, f"is larger than {MAX_BYTES} bytes")
    try:
        _check_shape(text, source)
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and context_mark is not None:
            reason += f" ({context} started on line {context_mark.line + 1})"
        raise ConfigError(source, line, "<yaml>", NO_VALUE, f"not valid YAML: {reason}") from None


def _check_shape(text: str, source: str) -> None:
    """Depth and aliases, from the parser's events (it does not recurse)."""
    import yaml

    depth = aliases = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = _line(event.start_mark)
                raise ConfigError(source, line, "<yaml>", None, f"nested deeper than {MAX_DEPTH}")
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                line = _line(event.start_mark)
                raise ConfigError(
                    source, line, "<yaml>", event.anchor, f"more than {MAX_ALIASES} aliases"
                )


def _line(mark: Any) -> int | None:
    """The 1-based line of a PyYAML mark (its C parser's or its own)."""
    return None if mark is None else int(mark.line) + 1


class Reader:
    """Walks a composed node tree, converting values and keeping their lines."""

    def __init__(self, source: str):
        import yaml

        self.source = source
        self._scalars = yaml.SafeLoader("")

    def fail(self, node: yaml.Node | None, path: str, value: Any, reason: str) -> ConfigError:
        line = node.start_mark.line + 1 if node is not None else None
        return ConfigError(self.source, line, path, value, reason)

    def scalar(self, node: yaml.Node, path: str) -> Any:
        import yaml

        if not isinstance(node, yaml.ScalarNode):
            raise self.fail(node, path, plain(node), "must be a single value")
        try:
            return self._scalars.construct_object(node)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            # An integer past Python's 4,300 digits, a date out of range, ...
            reason = str(exc).split(":", 1)[0]
            raise self.fail(node, path, node.value, f"cannot be read: {reason}") from None

    def text(self, node: yaml.Node, path: str) -> str:
        """A non-empty string with no control characters (CR, LF, NUL, ...)."""
        value = self.scalar(node, path)
        if not isinstance(value, str) or not value:
            raise self.fail(node, path, value, "must be text")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            raise self.fail(node, path, value, "must not hold control characters")
        return value

    def mapping(self, node: yaml.Node, path: str) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key, key node, value node) of a mapping; a key given twice is refused."""
        import yaml

        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, path, plain(node), "must be a mapping")
        entries = []
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(self.scalar(key_node, path))
            if key in seen:
                raise self.fail(key_node, f"{path}.{key}" if path else key, key, "is given twice")
            seen.add(key)
            entries.append((key, key_node, value_node))
        return entries

    def choice(self, node: yaml.Node, path: str, choices: tuple[str, ...]) -> str:
        """A scalar that must be one of ``choices``."""
        value = self.scalar(node, path)
        if value not in choices:
            raise self.fail(node, path, value, f"must be one of {', '.join(choices)}")
        return str(value)

    def number(self, node: yaml.Node, path: str, *, whole: bool = False) -> float:
        value = self.scalar(node, path)
        kind = "a whole number" if whole else "a number"
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(node, path, value, f"must be {kind}")
        if isinstance(value, int) and abs(value) > MAX_WHOLE:
            raise self.fail(node, path, value, f"must be {kind} up to {MAX_WHOLE}")
        if not math.isfinite(value) or value < 0:
            raise self.fail(node, path, value, f"must be {kind}, finite and not negative")
        if whole and value != int(value):
            raise self.fail(node, path, value, f"must be {kind}")
        return int(value) if whole else float(value)


def plain(node: yaml.Node) -> Any:
    """A node as an error shows it: a scalar's text, a collection's shape."""
    import yaml

    if isinstance(node, yaml.ScalarNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return "{...}"
    return "[...]"


__all__ = [
    "MAX_ALIASES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_WHOLE",
    "NO_VALUE",
    "ConfigError",
    "Reader",
    "compose",
    "plain",
    "read_text",
]
