"""``stats --prometheus URL``: the same table, answered by Prometheus for the fleet.

"What did the team spend today" for every exporter at once: the totals come
from Prometheus' HTTP API, as each counter's value now minus its value at the
start of the period (a series born since then counts from zero). That is
exact where ``increase()`` would miss what a counter held before its first
scrape, and the exporters' counters survive restarts (journal snapshots), so
no reset is mistaken for spend. Quality gates carry no persona, so the
failed-gates column is left at zero here.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from typing import Any

from ..journal.totals import SINCE, PersonaStats
from ..model import catalog as c
from ..model.budgets import period_start

#: token_type -> the PersonaStats fields it adds to (disjoint types, nested fields).
_TOKEN_FIELDS = {
    "input": ("input_tokens",),
    "cache_read": ("input_tokens", "cache_read_tokens"),
    "cache_write": ("input_tokens", "cache_write_tokens"),
    "output": ("output_tokens",),
    "reasoning": ("output_tokens", "reasoning_tokens"),
}


class PrometheusError(RuntimeError):
    """Prometheus could not be asked, or said no; the message says which."""


def query(url: str, promql: str, at: float) -> list[dict[Any, Any]]:
    """An instant query's result vector."""
    address = f"{url.rstrip('/')}/api/v1/query?" + urllib.parse.urlencode(
        {"query": promql, "time": f"{at:.3f}"}
    )
    try:
        with urllib.request.urlopen(address, timeout=30) as response:
            payload = json.loads(response.read())
    except (OSError, ValueError) as exc:
        raise PrometheusError(f"cannot query {url}: {exc}") from None
    if payload.get("status") != "success":
        raise PrometheusError(f"{url} refused the query: {payload.get('error')}")
    result: list[dict[Any, Any]] = payload["data"]["result"]
    return result


def _since_start(metric: str, selector: str, seconds: int, by: str) -> str:
    series = f"{metric}{{{selector}}}"
    return f"sum by ({by}) ({series} - ({series} offset {seconds}s or {series} * 0))"


def fleet_stats(
    url: str, since: str, selector: str = "", now: float | None = None
) -> list[PersonaStats]:
    """Per-persona totals across every exporter Prometheus scrapes, since the
    start of today, this week or this month (UTC), most spent first."""
    now = time.time() if now is None else now
    seconds = max(1, int(now - period_start(now, SINCE[since])))
    rows: dict[str, PersonaStats] = {}

    def entry(persona: str) -> PersonaStats:
        return rows.setdefault(persona, PersonaStats(persona))

    tokens = _since_start(c.PERSONA_TOKENS.name, selector, seconds, "persona, token_type")
    for sample in query(url, tokens, now):
        labels, value = sample["metric"], round(float(sample["value"][1]))
        for name in _TOKEN_FIELDS.get(labels.get("token_type", ""), ()):
            stats = entry(labels["persona"])
            setattr(stats, name, getattr(stats, name) + value)
    money = {
        "reported_cost_usd": c.PERSONA_REPORTED_COST.name,
        "estimated_cost_usd": c.PERSONA_COST.name,
    }
    for name, metric in money.items():
        for sample in query(url, _since_start(metric, selector, seconds, "persona"), now):
            setattr(entry(sample["metric"]["persona"]), name, float(sample["value"][1]))
    for stats in rows.values():  # the cost counter holds both: keep the estimate apart
        stats.estimated_cost_usd = max(0.0, stats.estimated_cost_usd - stats.reported_cost_usd)
    unpriced = _since_start(c.PERSONA_UNPRICED_TOKENS.name, selector, seconds, "persona")
    for sample in query(url, unpriced, now):
        entry(sample["metric"]["persona"]).unpriced_tokens = round(float(sample["value"][1]))
    switches = _since_start(c.PERSONA_SWITCHES.name, selector, seconds, "to_persona")
    for sample in query(url, switches, now):
        entry(sample["metric"]["to_persona"]).switches = round(float(sample["value"][1]))
    failed = ", ".join(m for m in (selector, 'result="failed"') if m)
    gates = _since_start(c.QUALITY_GATE.name, failed, seconds, "persona")
    for sample in query(url, gates, now):
        persona = sample["metric"].get("persona")
        if persona:  # verdicts from before the gate counter had a persona have none
            entry(persona).failed_gates = round(float(sample["value"][1]))
    return sorted(rows.values(), key=lambda r: (-r.cost_usd, -r.tokens, r.persona))


__all__ = ["PrometheusError", "fleet_stats", "query"]
