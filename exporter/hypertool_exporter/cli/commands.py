"""Every command and option of the CLI, declared once.

``main`` builds two parsers from this table: a fast one for well-formed
command lines (no argparse, which costs about 10 ms of start-up on every
persona switch) and an argparse tree for ``--help`` and error messages. A
test parses every command with both and requires the same result.

Stdlib only, and no ``typing`` or ``dataclasses``: the recording commands
import this on their fast path.
"""

from __future__ import annotations

from .options import Arg, Command, Opt


def _event_id() -> Opt:
    return Opt(
        "--event-id",
        "event_id",
        "an id for this event: recording it again with the same id changes nothing (safe retries)",
    )


def _quiet() -> Opt:
    return Opt("--quiet", "quiet", "print nothing when the event is recorded", flag=True)


def _journal() -> Opt:
    return Opt(
        "--journal",
        "journal",
        "journal file (default: journal.sqlite in the user data directory)",
        env="JOURNAL",
    )


def _config(help: str = "config file with budgets and pricing") -> Opt:
    return Opt("--config", "config", help, env="CONFIG")


def _trace_id() -> Opt:
    return Opt("--trace-id", "trace_id", "OpenTelemetry trace id, shown as the samples' exemplar")


def _recording(trace: bool = True) -> tuple[Opt, ...]:
    """The options every recording command ends with (``trace``: an event
    that can carry a trace id)."""
    return (*((_trace_id(),) if trace else ()), _journal(), _event_id(), _quiet())


def _host() -> Opt:
    return Opt("--host", "host", "address to bind", default="127.0.0.1", env="HOST")


def _port() -> Opt:
    return Opt("--port", "port", "port to bind", default="9464", env="PORT")


def _chatmode(help: str) -> Opt:
    return Opt("--chatmode", "chatmode", help, default="default", env="CHATMODE")


COMMANDS: tuple[Command, ...] = (
    Command(
        "serve",
        "fold the journal and serve /metrics",
        "main:run_serve",
        opts=(
            _host(),
            _port(),
            _config(),
            _journal(),
            Opt(
                "--web.config.file",
                "web_config_file",
                "TLS and basic auth, in exporter-toolkit's format",
                env="WEB_CONFIG_FILE",
            ),
            Opt(
                "--log-level",
                "log_level",
                "log verbosity",
                default="info",
                env="LOG_LEVEL",
                choices=("debug", "info", "warning", "error"),
            ),
        ),
    ),
    Command(
        "switch",
        "record a persona switch",
        "record:run",
        args=(Arg("to_persona", "persona switched to", "PERSONA"),),
        opts=(
            Opt(
                "--from",
                "from_persona",
                "persona switched from (default: the session's current one)",
            ),
            _chatmode("chat mode entered"),
            Opt(
                "--session",
                "session",
                "session whose persona changes",
                default="default",
                env="SESSION",
            ),
            *_recording(trace=False),
        ),
        recording=True,
    ),
    Command(
        "tokens",
        "record token usage",
        "record:run",
        args=(Arg("persona", "persona that used the tokens"),),
        opts=(
            Opt("--model", "model", "model that used them", required=True),
            Opt(
                "--input",
                "input_tokens",
                "input (prompt) tokens, cache reads and writes included",
                default="0",
            ),
            Opt(
                "--output",
                "output_tokens",
                "output (completion) tokens, reasoning included",
                default="0",
            ),
            Opt(
                "--cache-read", "cache_read_tokens", "of the input: read from a cache", default="0"
            ),
            Opt(
                "--cache-write",
                "cache_write_tokens",
                "of the input: written to a cache",
                default="0",
            ),
            Opt("--reasoning", "reasoning_tokens", "of the output: reasoning", default="0"),
            Opt(
                "--cost-usd",
                "cost_usd",
                "the provider's reported cost of the call, used instead of an estimate",
            ),
            _chatmode("chat mode the tokens were used in"),
            Opt("--workflow", "workflow", "workflow the call was made in (with --stage)"),
            Opt("--stage", "stage", "workflow stage the call was made in (with --workflow)"),
            Opt(
                "--reservation-id",
                "reservation_id",
                "the budget reservation this usage uses (released when it is recorded)",
            ),
            *_recording(),
        ),
        recording=True,
    ),
    Command(
        "stage",
        "record a finished workflow stage",
        "record:run",
        args=(Arg("workflow", "workflow name"), Arg("stage", "stage name")),
        opts=(
            Opt("--persona", "persona", "persona that ran the stage", required=True),
            Opt("--seconds", "duration_seconds", "stage duration in seconds", required=True),
            Opt(
                "--gate",
                "gate",
                "quality-gate verdict: passed, failed or none (no gate)",
                default="none",
                absent="none",
            ),
            *_recording(),
        ),
        recording=True,
    ),
    Command(
        "llm",
        "record one LLM call",
        "record:run",
        args=(Arg("persona", "persona that made the call"),),
        opts=(
            Opt("--model", "model", "model called", required=True),
            Opt("--seconds", "duration_seconds", "call latency in seconds", required=True),
            Opt("--error", "error_type", "error type, when the call failed"),
            *_recording(),
        ),
        recording=True,
    ),
    Command(
        "run",
        "record a workflow run that ended",
        "record:run",
        args=(Arg("workflow", "workflow name"),),
        opts=(
            Opt("--seconds", "duration_seconds", "run duration in seconds", required=True),
            Opt(
                "--result",
                "result",
                "how it ended: succeeded or failed",
                required=True,
                choices=("succeeded", "failed"),
            ),
            Opt("--persona", "persona", "persona that ran it, if one did"),
            *_recording(),
        ),
        recording=True,
    ),
    Command(
        "tool",
        "record one tool call",
        "record:run",
        args=(Arg("persona", "persona (agent) that called it"), Arg("tool", "tool name")),
        opts=(
            Opt("--seconds", "duration_seconds", "call duration in seconds", required=True),
            Opt("--error", "error_type", "error type, when the call failed"),
            *_recording(),
        ),
        recording=True,
    ),
    Command(
        "score",
        "record a quality score of a persona's output",
        "record:run",
        args=(
            Arg("persona", "persona whose output was evaluated"),
            Arg("evaluation", "evaluation name (relevance, faithfulness, ...)"),
        ),
        opts=(
            Opt("--score", "score", "the score (0..1 by convention)"),
            Opt("--label", "label", "the verdict in words (pass, relevant, ...)"),
            *_recording(),
        ),
        recording=True,
    ),
    Command(
        "check",
        "whether an amount fits a persona's budget now (exit 0: it fits, 1: it does not)",
        "check:run",
        args=(Arg("persona", "persona about to spend"),),
        opts=(
            Opt("--tokens", "tokens", "tokens about to be spent", default="0"),
            Opt("--usd", "usd", "US dollars about to be spent", default="0"),
            Opt(
                "--reserve",
                "reserve",
                "hold the amount for this many seconds when it fits, and print the "
                "reservation id (give it to the usage: tokens --reservation-id)",
            ),
            _config(),
            _journal(),
        ),
    ),
    Command(
        "stats",
        "spend by persona, from the journal (no exporter needed)",
        "stats:run",
        opts=(
            Opt(
                "--since",
                "since",
                "period to total, from its start (UTC)",
                default="today",
                choices=("today", "week", "month"),
            ),
            Opt("--json", "json", "print JSON instead of a table", flag=True),
            Opt(
                "--wide",
                "wide",
                "add the token parts (cache, reasoning) and the cost's sources to the table",
                flag=True,
            ),
            Opt(
                "--prometheus",
                "prometheus",
                "answer for the whole fleet from this Prometheus (its URL) instead of the "
                "local journal",
                env="PROMETHEUS_URL",
            ),
            Opt(
                "--selector",
                "selector",
                "PromQL label matchers for the fleet's series, with --prometheus",
                default="",
            ),
            _config(),
            _journal(),
        ),
    ),
    Command(
        "demo",
        "serve /metrics fed with realistic demo traffic",
        "demo:run",
        opts=(
            _host(),
            _port(),
            _config("config file (default: the demo's own budgets)"),
            Opt("--journal", "journal", "journal file (default: a fresh temporary one)"),
            Opt("--duration", "duration", "seconds to run; 0 runs until stopped", default="0"),
            Opt("--rate", "rate", "workflow runs per second", default="1"),
            Opt("--keep", "keep", "keep the temporary journal directory at exit", flag=True),
            Opt(
                "--stack",
                "stack",
                "also run a local Prometheus and Alertmanager (when installed)",
                flag=True,
            ),
            Opt(
                "--prometheus-port", "prometheus_port", "Prometheus port (--stack)", default="9090"
            ),
            Opt(
                "--alertmanager-port",
                "alertmanager_port",
                "Alertmanager port (--stack)",
                default="9093",
            ),
        ),
    ),
    Command(
        "check-config",
        "validate a config file",
        "main:run_check_config",
        args=(Arg("file", "config file to check", "FILE"),),
    ),
    Command(
        "bundle",
        "regenerate the dashboards, rules, Kubernetes manifests and README metric table",
        "main:run_bundle",
        args=(Arg("action", "what to do", choices=("build",)),),
        opts=(
            Opt("--root", "root", "repository root to write into", default="."),
            Opt(
                "--selector",
                "selector",
                "PromQL label matchers for every rule and dashboard query "
                '(e.g. job="ai-agents"); none: the metrics wherever they are scraped',
                default="",
            ),
            Opt(
                "--exporter-job",
                "exporter_job",
                "regex of the scrape job(s) HypertoolExporterDown watches",
                default="hypertool",
            ),
            Opt(
                "--runbook-url",
                "runbook_url",
                "where your copy of docs/runbook.md lives: each alert's runbook_url links "
                "to its section (default: the project's)",
            ),
            Opt(
                "--namespace",
                "namespace",
                "Kubernetes namespace of deploy/kubernetes/",
                default="monitoring",
            ),
            Opt(
                "--image",
                "image",
                "the exporter's image in deploy/kubernetes/ (build it from the Dockerfile)",
            ),
            Opt(
                "--monitor-labels",
                "monitor_labels",
                "labels your Prometheus Operator selects monitors and rules by, as "
                "key=value,key=value (e.g. release=prometheus)",
                default="",
            ),
        ),
    ),
)

BY_NAME: dict[str, Command] = {command.name: command for command in COMMANDS}


__all__ = ["BY_NAME", "COMMANDS"]
