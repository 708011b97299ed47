"""Content negotiation for ``/metrics``: format by ``Accept``, compression by
``Accept-Encoding``, with their q-values, as Prometheus negotiates.

The exporter offers OpenMetrics (versions 1.0.0 and 0.0.1, the two Prometheus
asks for) and the Prometheus text format 0.0.4. A media range with ``q=0`` is
refused; a version the exporter does not speak is not matched; when nothing
the client accepts is offered, the text format is the answer (what Prometheus
servers and client libraries do).
"""

from __future__ import annotations

OPENMETRICS = "application/openmetrics-text"
OPENMETRICS_VERSIONS = ("1.0.0", "0.0.1")
TEXT = "text/plain"
TEXT_VERSION = "0.0.4"
TEXT_CONTENT_TYPE = f"{TEXT}; version={TEXT_VERSION}; charset=utf-8"


def _ranges(header: str) -> list[tuple[str, dict[str, str], float]]:
    """(type, parameters, q) of each comma-separated item of an Accept-style header."""
    found = []
    for item in header.split(","):
        parts = [p.strip() for p in item.split(";")]
        if not parts[0]:
            continue
        params: dict[str, str] = {}
        for part in parts[1:]:
            name, _, value = part.partition("=")
            params[name.strip().lower()] = value.strip().strip('"')
        try:
            q = float(params.pop("q", "1"))
        except ValueError:
            q = 0.0
        found.append((parts[0].lower(), params, q if 0.0 <= q <= 1.0 else 0.0))
    return found


def choose_format(accept: str) -> tuple[bool, str]:
    """(OpenMetrics?, Content-Type) for an ``Accept`` header."""
    best: tuple[float, int, bool, str] = (0.0, 0, False, TEXT_CONTENT_TYPE)
    for media, params, q in _ranges(accept or ""):
        if q <= 0:
            continue
        version = params.get("version")
        if media == OPENMETRICS and (version is None or version in OPENMETRICS_VERSIONS):
            offer = (q, 2, True, f"{OPENMETRICS}; version={version or '1.0.0'}; charset=utf-8")
        elif media == TEXT and (version is None or version == TEXT_VERSION):
            offer = (q, 1, False, TEXT_CONTENT_TYPE)
        elif media in ("*/*", "text/*"):
            offer = (q, 0, False, TEXT_CONTENT_TYPE)
        else:
            continue
        if offer[:2] > best[:2]:
            best = offer
    return best[2], best[3]


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether gzip is acceptable: listed with ``q > 0``, or not listed and
    ``*`` is (``gzip;q=0`` refuses it)."""
    star = None
    for coding, _, q in _ranges(accept_encoding or ""):
        if coding == "gzip":
            return q > 0
        if coding == "*":
            star = q > 0
    return bool(star)


__all__ = ["OPENMETRICS", "TEXT_CONTENT_TYPE", "accepts_gzip", "choose_format"]
