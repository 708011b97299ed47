"""Fast ``/metrics`` text for the state: the Prometheus text format and OpenMetrics.

prometheus_client's ``generate_latest`` builds a ``Sample`` object per sample
and formats its labels on every scrape, which takes seconds at tens of
thousands of series. Here each series' name-and-labels prefix is rendered
and escaped once, cached, and a scrape only joins prefixes with values. The
output parses to exactly the samples ``StateCollector`` + ``generate_latest``
give (a test compares them), with exemplars in OpenMetrics.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from prometheus_client.registry import CollectorRegistry

from ..fold.series import LabelKey
from ..fold.state import MetricState
from ..model import catalog as c
from ..sync.status import JournalStatus
from .snapshot import Family, StateCollector, go_float, rendered_elsewhere, take_snapshot

TEXT_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"


def escape_label_value(value: str) -> str:
    """A label value escaped as both text formats want it."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str, openmetrics: bool) -> str:
    text = text.replace("\\", "\\\\").replace("\n", "\\n")
    return text.replace('"', '\\"') if openmetrics else text


def _value(value: float) -> str:
    text = repr(value)
    if text[-1] in "fn":  # inf, -inf, nan
        return {"inf": "+Inf", "-inf": "-Inf", "nan": "NaN"}[text]
    return text


def _labels(names: tuple[str, ...], key: LabelKey, extra: str = "") -> str:
    parts = [f'{n}="{escape_label_value(v)}"' for n, v in zip(names, key, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


def _exemplar(raw: tuple[str, float, float]) -> str:
    trace_id, value, ts = raw
    return f' # {{trace_id="{escape_label_value(trace_id)}"}} {_value(float(value))} {ts!r}'


class StateRenderer:
    """Renders a ``MetricState``; caches per-series prefixes across scrapes."""

    def __init__(self, state: MetricState, journal: JournalStatus | None = None):
        self.state = state
        self.journal = journal
        #: sample name -> label key -> 'name{labels} '
        self._prefixes: dict[str, dict[LabelKey, str]] = {}
        #: histogram name -> label key -> (bucket prefixes, count prefix, sum prefix)
        self._hist: dict[str, dict[LabelKey, tuple[list[str], str, str]]] = {}
        self._headers: dict[tuple[str, bool], str] = {}

    def prefixed(self, sample: str) -> frozenset[LabelKey]:
        """The label keys of ``sample`` whose line prefix is built (``FastExposition.warm``)."""
        return frozenset(self._prefixes.get(sample, ()))

    def _header(self, spec: c.MetricSpec, openmetrics: bool) -> str:
        cached = self._headers.get((spec.name, openmetrics))
        if cached is not None:
            return cached
        if openmetrics:
            name = spec.family
            lines = [f"# HELP {name} {_escape_help(spec.help, True)}", f"# TYPE {name} {spec.kind}"]
            if spec.unit:
                lines.append(f"# UNIT {name} {spec.unit}")
        else:
            kind = "gauge" if spec.kind == "info" else spec.kind
            name = spec.name
            lines = [f"# HELP {name} {_escape_help(spec.help, False)}", f"# TYPE {name} {kind}"]
        header = "\n".join(lines) + "\n"
        self._headers[(spec.name, openmetrics)] = header
        return header

    def render(self, openmetrics: bool = False) -> str:
        """The state's families (no trailing ``# EOF``: the caller adds it)."""
        out: list[str] = []
        append = out.append
        for family in take_snapshot(self.state, self.journal):
            spec = family.spec
            append(self._header(spec, openmetrics))
            if spec.kind == "histogram":
                self._render_histogram(family, openmetrics, append)
                continue
            sample = spec.family + "_total" if spec.kind == "counter" else spec.name
            prefixes = self._prefixes.get(sample)
            if prefixes is None:
                prefixes = self._prefixes[sample] = {}
            rows = family.rows
            missing = [key for key, _ in rows if key not in prefixes]
            for key in missing:
                prefixes[key] = f"{sample}{_labels(spec.labels, key)} "
            exemplars = family.exemplars if openmetrics else None
            if spec.kind == "counter" and not exemplars:
                # Counters of the fold are finite floats: repr is their exposition.
                append("".join([f"{prefixes[key]}{value!r}\n" for key, value in rows]))
            else:
                for key, value in rows:
                    raw = exemplars.get(key) if exemplars else None
                    suffix = _exemplar(raw) if raw is not None else ""
                    append(f"{prefixes[key]}{_value(float(value))}{suffix}\n")
        return "".join(out)

    def _render_histogram(
        self, family: Family, openmetrics: bool, append: Callable[[str], None]
    ) -> None:
        spec = family.spec
        cache = self._hist.get(spec.name)
        if cache is None:
            cache = self._hist[spec.name] = {}
        bucket_labels = [f'le="{go_float(b)}"' for b in spec.buckets] + ['le="+Inf"']
        exemplars = family.exemplars if openmetrics else None
        for key, cumulative, total in family.rows:
            entry = cache.get(key)
            if entry is None:
                labels = _labels(spec.labels, key)
                entry = cache[key] = (
                    [f"{spec.name}_bucket{_labels(spec.labels, key, le)} " for le in bucket_labels],
                    f"{spec.name}_count{labels} ",
                    f"{spec.name}_sum{labels} ",
                )
            buckets, count_prefix, sum_prefix = entry
            if exemplars:
                for index, (prefix, value) in enumerate(zip(buckets, cumulative, strict=True)):
                    raw = exemplars.get((key, index))
                    suffix = _exemplar(raw) if raw is not None else ""
                    append(f"{prefix}{float(value)!r}{suffix}\n")
            else:
                append(
                    "".join(
                        [
                            f"{prefix}{float(value)!r}\n"
                            for prefix, value in zip(buckets, cumulative, strict=True)
                        ]
                    )
                )
            append(f"{count_prefix}{float(cumulative[-1])!r}\n{sum_prefix}{_value(total)}\n")


class FastExposition:
    """``/metrics`` bodies: the state through ``StateRenderer``, everything else
    in the registry through prometheus_client's encoders."""

    def __init__(self, registry: CollectorRegistry, state_collector: StateCollector):
        self.renderer = StateRenderer(state_collector.state, state_collector.journal)
        self.registry = registry
        self.state_collector = state_collector
        self._lock = threading.Lock()
        #: openmetrics? -> (monotonic time the render started, body, content type),
        #: kept only while other scrapes wait, so an idle exporter holds no body.
        self._last: dict[bool, tuple[float, bytes, str]] = {}
        self._waiting = 0
        self._count_lock = threading.Lock()

    def render(self, openmetrics: bool) -> tuple[bytes, str]:
        """One render at a time; scrapes that arrived before a render started
        share its result, so a burst of concurrent scrapes costs about two
        renders instead of one each, and never sees data older than its request."""
        arrived = time.monotonic()
        with self._count_lock:
            self._waiting += 1
        try:
            with self._lock:
                last = self._last.get(openmetrics)
                if last is not None and last[0] >= arrived:
                    return last[1], last[2]
                started = time.monotonic()
                body, content_type = self._render(openmetrics)
                self._last[openmetrics] = (started, body, content_type)
                return body, content_type
        finally:
            with self._count_lock:
                self._waiting -= 1
                if self._waiting == 0:
                    self._last.clear()

    @property
    def bodies_kept(self) -> int:
        """Rendered bodies held for scrapes still waiting (0 when idle)."""
        return len(self._last)

    def warm(self) -> None:
        """Render the state once and drop the text: the per-series prefixes of
        every series there is (a restored snapshot, a replayed journal) are
        built now, at start-up, not by the first scrape (text and OpenMetrics
        share them)."""
        with self._lock:
            self.renderer.render(False)

    def _others(self, openmetrics: bool) -> str:
        """The registry's other collectors (process metrics, an OTel reader, ...)
        through prometheus_client's encoders, with the state collector standing
        aside because ``StateRenderer`` renders it."""
        from prometheus_client.exposition import generate_latest as text_format
        from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_format

        encode: Callable[[CollectorRegistry], bytes] = (
            openmetrics_format if openmetrics else text_format
        )
        token = rendered_elsewhere.set(self.state_collector)
        try:
            text = encode(self.registry).decode()
        finally:
            rendered_elsewhere.reset(token)
        if openmetrics and text.endswith("# EOF\n"):
            text = text[: -len("# EOF\n")]
        return text

    def _render(self, openmetrics: bool) -> tuple[bytes, str]:
        body = self._others(openmetrics) + self.renderer.render(openmetrics)
        if openmetrics:
            return (body + "# EOF\n").encode(), OPENMETRICS_CONTENT_TYPE
        return body.encode(), TEXT_CONTENT_TYPE


__all__ = [
    "OPENMETRICS_CONTENT_TYPE",
    "TEXT_CONTENT_TYPE",
    "FastExposition",
    "StateRenderer",
    "escape_label_value",
]
