"""The pieces every command is declared with: positional arguments, options
(with their environment variables and defaults) and the command itself.

Stdlib only, and no ``typing`` or ``dataclasses``: the recording commands
import this on their fast path.
"""

from __future__ import annotations

import os

ENV_PREFIX = "HYPERTOOL_"


class Arg:
    """A positional argument; ``dest`` is the name the handler receives."""

    __slots__ = ("choices", "dest", "help", "metavar")

    def __init__(
        self,
        dest: str,
        help: str,
        metavar: str | None = None,
        *,
        choices: tuple[str, ...] | None = None,
    ):
        self.dest = dest
        self.help = help
        self.metavar = metavar or dest.upper()
        self.choices = choices


class Opt:
    """An option. ``env`` names its ``HYPERTOOL_*`` variable; ``flag=True``
    makes it a switch without a value; ``absent`` is a value that means "not
    given" (``--gate none``)."""

    __slots__ = ("absent", "choices", "default", "dest", "env", "flag", "help", "name", "required")

    def __init__(
        self,
        name: str,
        dest: str,
        help: str,
        *,
        default: str | None = None,
        env: str | None = None,
        required: bool = False,
        choices: tuple[str, ...] | None = None,
        flag: bool = False,
        absent: str | None = None,
    ):
        self.name = name
        self.dest = dest
        self.help = help
        self.default = default
        self.env = env
        self.required = required
        self.choices = choices
        self.flag = flag
        self.absent = absent

    def initial(self) -> str | bool | None:
        """The value before the command line is read: the environment, else the default."""
        if self.flag:
            return False
        if self.env is not None:
            return os.environ.get(ENV_PREFIX + self.env, self.default)
        return self.default

    def help_text(self) -> str:
        """Help with the environment variable and the default, each said once."""
        parts = [self.help]
        if self.env is not None:
            parts.append(f"[env {ENV_PREFIX}{self.env}]")
        if self.required:
            parts.append("(required)")
        elif self.default is not None and not self.flag:
            parts.append(f"(default: {self.default})")
        return " ".join(parts)


class Command:
    """A subcommand: its arguments, options and the function that runs it
    (``module:function`` inside ``hypertool_exporter.cli``, imported on use)."""

    __slots__ = ("args", "handler", "help", "name", "opts", "recording")

    def __init__(
        self,
        name: str,
        help: str,
        handler: str,
        args: tuple[Arg, ...] = (),
        opts: tuple[Opt, ...] = (),
        *,
        recording: bool = False,
    ):
        self.name = name
        self.help = help
        self.handler = handler
        self.args = args
        self.opts = opts
        self.recording = recording


__all__ = ["ENV_PREFIX", "Arg", "Command", "Opt"]
