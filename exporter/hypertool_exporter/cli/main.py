"""The ``hypertool-exporter`` command line.

Recording commands (``switch``, ``tokens``, ``stage``, ``llm``) validate one
event, append it to the journal and exit; they import neither
prometheus_client nor OpenTelemetry, so a persona switch costs a few
milliseconds. ``serve`` folds the journal and serves ``/metrics``.

Every option has a ``HYPERTOOL_*`` environment variable; defaults are shown
in ``--help``.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

EXIT_USAGE = 2
EXIT_NOT_RECORDED = 1


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"HYPERTOOL_{name}", default)


def _journal_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--journal",
        default=_env("JOURNAL"),
        metavar="FILE",
        help="journal file [env HYPERTOOL_JOURNAL; default: journal.sqlite in the user data dir]",
    )


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        default=_env("CONFIG"),
        metavar="FILE",
        help="config file with budgets and pricing [env HYPERTOOL_CONFIG]",
    )


def _fmt() -> type[argparse.HelpFormatter]:
    import argparse

    return argparse.ArgumentDefaultsHelpFormatter


def _add_serve(sub) -> None:
    serve = sub.add_parser(
        "serve", help="fold the journal and serve /metrics", formatter_class=_fmt()
    )
    serve.add_argument(
        "--host", default=_env("HOST", "127.0.0.1"), help="address to bind [env HYPERTOOL_HOST]"
    )
    serve.add_argument(
        "--port", default=_env("PORT", "9464"), help="port to bind [env HYPERTOOL_PORT]"
    )
    _config_arg(serve)
    _journal_arg(serve)
    serve.add_argument(
        "--web.config.file",
        dest="web_config_file",
        default=_env("WEB_CONFIG_FILE"),
        metavar="FILE",
        help="TLS and basic auth, in exporter-toolkit's format [env HYPERTOOL_WEB_CONFIG_FILE]",
    )
    serve.add_argument(
        "--log-level",
        default=_env("LOG_LEVEL", "info"),
        choices=["debug", "info", "warning", "error"],
    )


def _add_switch(sub) -> None:
    switch = sub.add_parser("switch", help="record a persona switch", formatter_class=_fmt())
    switch.add_argument("persona", help="persona switched to")
    switch.add_argument(
        "--from",
        dest="from_persona",
        default=None,
        help="persona switched from (default: the session's current one)",
    )
    switch.add_argument(
        "--chatmode",
        default=_env("CHATMODE", "default"),
        help="chat mode entered [env HYPERTOOL_CHATMODE]",
    )
    switch.add_argument(
        "--session",
        default=_env("SESSION", "default"),
        help="session whose persona changes [env HYPERTOOL_SESSION]",
    )
    _journal_arg(switch)


def _add_tokens(sub) -> None:
    tokens = sub.add_parser("tokens", help="record token usage", formatter_class=_fmt())
    tokens.add_argument("persona")
    tokens.add_argument("--model", required=True)
    tokens.add_argument("--input", dest="input_tokens", default="0", help="input tokens")
    tokens.add_argument("--output", dest="output_tokens", default="0", help="output tokens")
    tokens.add_argument("--chatmode", default=_env("CHATMODE", "default"))
    tokens.add_argument(
        "--trace-id", default=None, help="OpenTelemetry trace id, shown as the samples' exemplar"
    )
    _journal_arg(tokens)


def _add_stage(sub) -> None:
    stage = sub.add_parser("stage", help="record a finished workflow stage", formatter_class=_fmt())
    stage.add_argument("workflow")
    stage.add_argument("stage")
    stage.add_argument("--persona", required=True)
    stage.add_argument("--seconds", required=True, help="stage duration in seconds")
    stage.add_argument("--gate", default="none", help="quality gate: passed, failed or none")
    stage.add_argument(
        "--trace-id", default=None, help="OpenTelemetry trace id, shown as the samples' exemplar"
    )
    _journal_arg(stage)


def _add_llm(sub) -> None:
    llm = sub.add_parser("llm", help="record one LLM call", formatter_class=_fmt())
    llm.add_argument("persona")
    llm.add_argument("--model", required=True)
    llm.add_argument("--seconds", required=True, help="call latency in seconds")
    llm.add_argument(
        "--error", dest="error_type", default=None, help="error type when the call failed"
    )
    llm.add_argument(
        "--trace-id", default=None, help="OpenTelemetry trace id, shown as the samples' exemplar"
    )
    _journal_arg(llm)


def _add_stats(sub) -> None:
    stats = sub.add_parser(
        "stats", help="spend by persona, from the journal", formatter_class=_fmt()
    )
    stats.add_argument("--since", default="today", choices=["today", "week", "month"])
    stats.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _config_arg(stats)
    _journal_arg(stats)


def _add_demo(sub) -> None:
    demo = sub.add_parser(
        "demo", help="serve /metrics fed with realistic demo traffic", formatter_class=_fmt()
    )
    demo.add_argument("--host", default=_env("HOST", "127.0.0.1"))
    demo.add_argument("--port", default=_env("PORT", "9464"))
    demo.add_argument(
        "--config",
        default=_env("CONFIG"),
        metavar="FILE",
        help="config file (default: the demo's own budgets)",
    )
    demo.add_argument(
        "--journal",
        default=None,
        metavar="FILE",
        help="journal file (default: a fresh temporary one)",
    )
    demo.add_argument("--duration", default="0", help="seconds to run; 0 runs until stopped")
    demo.add_argument("--rate", default="1", help="workflow runs per second")
    demo.add_argument(
        "--stack",
        action="store_true",
        help="also run a local Prometheus and Alertmanager (when installed)",
    )
    demo.add_argument("--prometheus-port", default="9090")
    demo.add_argument("--alertmanager-port", default="9093")


def _add_check_config(sub) -> None:
    check = sub.add_parser("check-config", help="validate a config file", formatter_class=_fmt())
    check.add_argument("file")


def _add_bundle(sub) -> None:
    bundle = sub.add_parser("bundle", help="generate dashboards and rules", formatter_class=_fmt())
    bundle.add_argument("action", choices=["build"])
    bundle.add_argument("--root", default=".", help="repository root to write into")


_COMMANDS = {
    "serve": _add_serve,
    "switch": _add_switch,
    "tokens": _add_tokens,
    "stage": _add_stage,
    "llm": _add_llm,
    "stats": _add_stats,
    "demo": _add_demo,
    "check-config": _add_check_config,
    "bundle": _add_bundle,
}
RECORDING = ("switch", "tokens", "stage", "llm")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The CLI parser; with ``only``, just that command's subparser (faster to build)."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="hypertool-exporter",
        description="Prometheus exporter for LLM persona systems.",
        formatter_class=_fmt(),
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in _COMMANDS.items():
        if only is None or name == only:
            add(sub)
    return parser


# Options of the recording commands: flag -> (destination, environment
# variable, default). Positionals are listed separately. The argparse
# subparsers above define the same commands for --help and for errors.
_FAST_SPECS: dict[str, tuple[tuple[str, ...], dict[str, tuple[str, str | None, str | None]]]] = {
    "switch": (
        ("persona",),
        {
            "--from": ("from_persona", None, None),
            "--chatmode": ("chatmode", "CHATMODE", "default"),
            "--session": ("session", "SESSION", "default"),
            "--journal": ("journal", "JOURNAL", None),
        },
    ),
    "tokens": (
        ("persona",),
        {
            "--model": ("model", None, None),
            "--input": ("input_tokens", None, "0"),
            "--output": ("output_tokens", None, "0"),
            "--chatmode": ("chatmode", "CHATMODE", "default"),
            "--journal": ("journal", "JOURNAL", None),
            "--trace-id": ("trace_id", None, None),
        },
    ),
    "stage": (
        ("workflow", "stage"),
        {
            "--persona": ("persona", None, None),
            "--seconds": ("seconds", None, None),
            "--gate": ("gate", None, "none"),
            "--journal": ("journal", "JOURNAL", None),
            "--trace-id": ("trace_id", None, None),
        },
    ),
    "llm": (
        ("persona",),
        {
            "--model": ("model", None, None),
            "--seconds": ("seconds", None, None),
            "--error": ("error_type", None, None),
            "--journal": ("journal", "JOURNAL", None),
            "--trace-id": ("trace_id", None, None),
        },
    ),
}
_REQUIRED = {"tokens": ("model",), "stage": ("persona", "seconds"), "llm": ("model", "seconds")}


def _fast_parse(argv: list[str]):
    """Parse a well-formed recording command without argparse, or return None.

    Building an argparse parser costs about 10 ms (terminal size and gettext
    look-ups), more than the rest of a recording command; this path runs on
    every persona switch. Anything unusual (help, an unknown flag, a missing
    value) returns None and argparse handles it, with its usual messages.
    """
    from types import SimpleNamespace

    positionals, options = _FAST_SPECS[argv[0]]
    values: dict[str, str | None] = {
        dest: _env(env, default) if env else default for dest, env, default in options.values()
    }
    given: list[str] = []
    args = argv[1:]
    i = 0
    while i < len(args):
        arg = args[i]
        if arg.startswith("-"):
            flag, eq, inline = arg.partition("=")
            if flag not in options:
                return None
            if eq:
                value = inline
            elif i + 1 < len(args):
                i += 1
                value = args[i]
            else:
                return None
            values[options[flag][0]] = value
        else:
            given.append(arg)
        i += 1
    if len(given) != len(positionals):
        return None
    if any(values[name] is None for name in _REQUIRED.get(argv[0], ())):
        return None
    values.update(zip(positionals, given, strict=True))
    return SimpleNamespace(command=argv[0], version=False, **values)


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"hypertool-exporter: error: {message}", file=sys.stderr)
    return code


def _record(args: argparse.Namespace) -> int:
    from ..journal.store import Journal, JournalError, default_journal_path
    from ..model.events import (
        EventError,
        LLMCallFinished,
        PersonaSwitched,
        StageFinished,
        TokensUsed,
    )

    raw: dict
    try:
        if args.command == "switch":
            raw = {"to_persona": args.persona, "chatmode": args.chatmode, "session": args.session}
            if args.from_persona is not None:
                raw["from_persona"] = args.from_persona
            event = PersonaSwitched.parse(raw)
        elif args.command == "tokens":
            event = TokensUsed.parse(
                {
                    "persona": args.persona,
                    "model": args.model,
                    "chatmode": args.chatmode,
                    "input_tokens": args.input_tokens,
                    "output_tokens": args.output_tokens,
                    "trace_id": args.trace_id,
                }
            )
        elif args.command == "stage":
            gate = None if args.gate == "none" else args.gate
            event = StageFinished.parse(
                {
                    "workflow": args.workflow,
                    "stage": args.stage,
                    "persona": args.persona,
                    "duration_seconds": args.seconds,
                    "gate": gate,
                    "trace_id": args.trace_id,
                }
            )
        else:
            event = LLMCallFinished.parse(
                {
                    "persona": args.persona,
                    "model": args.model,
                    "duration_seconds": args.seconds,
                    "error_type": args.error_type,
                    "trace_id": args.trace_id,
                }
            )
    except EventError as exc:
        return _fail(f"{args.command}: {exc}")
    path = args.journal or default_journal_path()
    try:
        with Journal(path) as journal:
            journal.append([event])
    except JournalError as exc:
        return _fail(f"event NOT recorded: {exc}", EXIT_NOT_RECORDED)
    return 0


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise SystemExit(_fail(f"--port: must be a whole number (got {value!r})")) from None
    if not 0 <= port <= 65535:
        raise SystemExit(_fail(f"--port: must be between 0 and 65535 (got {value!r})"))
    return port


def _load_config(path: str | None):
    from ..model.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        raise SystemExit(_fail(f"config: {exc}")) from None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = argv[0] if argv else None
    if first in RECORDING:
        args = _fast_parse(argv)
        if args is not None:
            return _record(args)
    parser = build_parser(first if first in RECORDING else None)
    args = parser.parse_args(argv)
    if args.version:
        from .._version import __version__

        print(f"hypertool-exporter {__version__}")
        return 0
    if args.command in RECORDING:
        return _record(args)
    if args.command == "serve":
        from ..app import run_server
        from ..http.webconfig import load_web_config
        from ..model.config import ConfigError

        config = _load_config(args.config)
        try:
            web = load_web_config(args.web_config_file)
        except ConfigError as exc:
            return _fail(f"web config: {exc}")
        return run_server(
            config, args.host, _port(args.port), args.journal, args.log_level, web=web
        )
    if args.command == "stats":
        from .stats import print_stats

        return print_stats(args.journal, _load_config(args.config), args.since, args.json)
    if args.command == "demo":
        from .demo import run_demo

        return run_demo(args, _port(args.port), _load_config)
    if args.command == "check-config":
        _load_config(args.file)
        print(f"{args.file}: ok")
        return 0
    if args.command == "bundle":
        from ..bundle.build import build_all

        for path in build_all(args.root):
            print(f"wrote {path}")
        return 0
    parser.print_help()
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
