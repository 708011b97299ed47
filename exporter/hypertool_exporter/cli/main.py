"""The ``hypertool-exporter`` command line: parse, then hand over to the command.

Both parsers come from the one table in ``commands``. ``fast_parse`` reads
any well-formed command line without argparse; anything else (``--help``, a
missing or unknown option, a bad choice) goes to ``build_parser``, which
knows the help texts and the error messages. Unknown options are named, with
a suggestion, before argparse speaks.
"""

from __future__ import annotations

import os
import sys

from .commands import BY_NAME, COMMANDS

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence
    from typing import Any, NoReturn

    from ..model.config import Config
    from .options import Command, Opt

EXIT_USAGE = 2
PROG = "hypertool-exporter"


def fast_parse(argv: list[str]) -> tuple[Command, dict[Any, Any]] | None:
    """(command, values by destination) of a well-formed command line, else ``None``."""
    if not argv or argv[0] not in BY_NAME:
        return None
    command = BY_NAME[argv[0]]
    options = {opt.name: opt for opt in command.opts}
    values: dict[Any, Any] = {opt.dest: opt.initial() for opt in command.opts}
    given: list[str] = []
    rest = argv[1:]
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg.startswith("-") and arg != "-":
            name, eq, inline = arg.partition("=")
            opt = options.get(name)
            if opt is None:
                return None
            if opt.flag:
                if eq:
                    return None
                values[opt.dest] = True
            elif eq:
                values[opt.dest] = inline
            elif i + 1 < len(rest):
                i += 1
                values[opt.dest] = rest[i]
            else:
                return None
            if opt.choices is not None and values[opt.dest] not in opt.choices:
                return None
        else:
            given.append(arg)
        i += 1
    if len(given) != len(command.args):
        return None
    for positional, value in zip(command.args, given, strict=True):
        if positional.choices is not None and value not in positional.choices:
            return None
        values[positional.dest] = value
    if any(opt.required and values[opt.dest] is None for opt in command.opts):
        return None
    return command, values


def _metavar(opt: Opt) -> str:
    """``--web.config.file`` -> ``WEB_CONFIG_FILE``: the option's own name, shouted."""
    return opt.name.lstrip("-").replace("-", "_").replace(".", "_").upper()


def build_parser() -> argparse.ArgumentParser:
    """The argparse form of the table, for ``--help`` and for error messages."""
    import argparse

    parser = argparse.ArgumentParser(
        prog=PROG, description="Prometheus exporter for LLM persona systems."
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        cmd = sub.add_parser(command.name, help=command.help, description=command.help)
        for arg in command.args:
            cmd.add_argument(arg.dest, metavar=arg.metavar, help=arg.help, choices=arg.choices)
        for opt in command.opts:
            if opt.flag:
                cmd.add_argument(opt.name, dest=opt.dest, action="store_true", help=opt.help_text())
            else:
                cmd.add_argument(
                    opt.name,
                    dest=opt.dest,
                    default=opt.initial(),
                    required=opt.required and opt.initial() is None,
                    choices=opt.choices,
                    metavar=_metavar(opt) if opt.choices is None else None,
                    help=opt.help_text(),
                )
    return parser


def unknown_option(argv: list[str]) -> str | None:
    """A message naming the first option the command does not have, with the
    closest one it does, or ``None``."""
    if not argv or argv[0] not in BY_NAME:
        return None
    names = [opt.name for opt in BY_NAME[argv[0]].opts] + ["--help", "-h"]
    for arg in argv[1:]:
        if arg == "--":
            return None
        if arg.startswith("-") and arg != "-":
            name = arg.partition("=")[0]
            if name not in names:
                return f"{argv[0]}: unknown option {name}{_suggestion(name, names)}"
    return None


def _suggestion(name: str, names: list[str]) -> str:
    """ "; did you mean --quiet?" for ``-q``, ``--qiet`` and the like, or ""."""
    if len(name.lstrip("-")) <= 2:  # a short option: the long ones it may stand for
        start = "--" + name.lstrip("-")
        close = [known for known in names if known.startswith(start)]
    else:
        from difflib import get_close_matches

        close = get_close_matches(name, names, n=1)
    if not close:
        return ""
    if len(close) == 1:
        return f"; did you mean {close[0]}?"
    return f"; did you mean one of {', '.join(close)}?"


def fail(message: str, code: int = EXIT_USAGE) -> int:
    """Print an error the way every command does; returns the exit code."""
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv == ["--version"]:
        from .._version import __version__

        print(f"{PROG} {__version__}")
        return 0
    parsed = fast_parse(argv)
    if parsed is None:
        unknown = unknown_option(argv)
        if unknown is not None:
            return fail(unknown)
        parser = build_parser()
        namespace = vars(parser.parse_args(argv))
        if namespace.pop("version"):
            return main(["--version"])
        name = namespace.pop("command")
        if name is None:
            parser.print_help()
            return EXIT_USAGE
        parsed = BY_NAME[name], namespace
    command, values = parsed
    module, function = command.handler.split(":")
    from importlib import import_module

    handler: Callable[[Command, dict[str, Any]], int] = getattr(
        import_module(f".{module}", __package__), function
    )
    return handler(command, values)


def entry() -> NoReturn:
    """The ``hypertool-exporter`` command (and ``python -m
    hypertool_exporter.cli``): ``main``, then the exit.

    A recording command has committed its event and closed the journal
    when ``main`` returns; once its output is flushed, it exits without the
    interpreter's teardown (freeing every module's objects one by one:
    about 5 ms, a sixth of the command's whole run). Every other command
    exits as usual: a server's threads and helper processes are stopped at
    exit (``atexit``)."""
    argv = sys.argv[1:]
    code = main(argv)
    command = BY_NAME.get(argv[0]) if argv else None
    if command is None or not command.recording:
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:  # noqa: SIM105 (contextlib: an import a recording makes nowhere else)
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the event is recorded all the same
            pass
    os._exit(code)


# -- handlers of the small commands ------------------------------------------


def port_value(value: str) -> int:
    """A TCP port from the command line, or exit 2 naming ``--port``."""
    try:
        port = int(value)
    except ValueError:
        raise SystemExit(fail(f"--port: must be a whole number (got {value!r})")) from None
    if not 0 <= port <= 65535:
        raise SystemExit(fail(f"--port: must be between 0 and 65535 (got {value!r})"))
    return port


def load_config_or_exit(path: str | None) -> Config:
    """The config at ``path`` (defaults without one), or exit 2 with the config error."""
    from ..model.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        raise SystemExit(fail(f"config: {exc}")) from None


def run_serve(command: Command, values: dict[Any, Any]) -> int:
    """``serve``: fold the journal and serve HTTP until stopped."""
    from ..app import run_server
    from ..http.webconfig import load_web_config
    from ..model.config import ConfigError

    config = load_config_or_exit(values["config"])
    try:
        web = load_web_config(values["web_config_file"])
    except ConfigError as exc:
        return fail(f"web config: {exc}")
    return run_server(
        config,
        values["host"],
        port_value(values["port"]),
        values["journal"],
        values["log_level"],
        web=web,
    )


def run_check_config(command: Command, values: dict[Any, Any]) -> int:
    """``check-config``: validate a config file, exit 2 naming what is wrong."""
    load_config_or_exit(values["file"])
    print(f"{values['file']}: ok")
    return 0


def run_bundle(command: Command, values: dict[Any, Any]) -> int:
    """``bundle build``: regenerate every generated file."""
    from ..bundle.build import build_all
    from ..bundle.config import BundleConfig

    labels = []
    for pair in filter(None, values["monitor_labels"].split(",")):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            return fail(f"--monitor-labels: {pair!r} is not key=value")
        labels.append((key.strip(), value.strip()))
    given = {
        "runbook_base_url": values.get("runbook_url"),
        "image": values.get("image"),
    }
    config = BundleConfig(
        selector=values["selector"],
        exporter_job=values["exporter_job"],
        kubernetes_namespace=values["namespace"],
        monitor_labels=tuple(labels),
        **{name: value for name, value in given.items() if value},
    )
    for path in build_all(values["root"], config):
        print(f"wrote {path}")
    return 0


__all__ = [
    "build_parser",
    "entry",
    "fail",
    "fast_parse",
    "load_config_or_exit",
    "main",
    "port_value",
]
