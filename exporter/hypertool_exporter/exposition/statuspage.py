"""The status page at ``/``: budgets and spend at a glance, without Grafana.

For the person who will not run a dashboard stack: per persona a budget bar
(used against the limit, what is left, when it resets), today's and this
month's spend, the top models, the last failed quality gates, and a 30-day
spend line from the journal's per-day totals. Plain HTML and inline SVG: no
script, no external asset, a strict Content-Security-Policy (the one style
block is allowed by its hash), and a refresh every 30 seconds.

Budget figures come from the same state as ``/metrics``; spend by day from
the journal (``journal.totals``) when the exporter follows one.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Callable
from datetime import UTC, datetime

from .._version import __version__
from ..fold.state import MetricState
from ..model import catalog as c
from ..model.budgets import Standing, human_duration
from ..model.config import Config
from ..sync.spend import Spend

#: Days of spend the sparkline shows.
SPARKLINE_DAYS = 30
#: Seconds between the page's own refreshes.
REFRESH_SECONDS = 30
#: Models listed under "Top models".
TOP_MODELS = 5

STYLE = """
body{font:15px/1.4 system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3em .6em;
border-bottom:1px solid #ddd}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{vertical-align:middle}td:first-child{white-space:nowrap}.over{color:#c33;font-weight:bold}.muted{color:#777}
svg{background:#f6f6f6}nav a{margin-right:1em}.unpriced{color:#a60;font-size:.85em}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
#: Nothing may load or run but the one style block above.
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _usd(amount: float) -> str:
    return f"${amount:,.2f}" if amount >= 0.01 or amount == 0 else f"${amount:,.4f}"


#: After a dollar amount that leaves out tokens nobody priced; alone for a
#: model with nothing priced at all.
_UNPRICED_TITLE = 'title="tokens of a model with no price: their cost is not counted"'
_UNPRICED = f' <span class="unpriced" {_UNPRICED_TITLE}>+ unpriced</span>'
_UNPRICED_ONLY = f'<span class="unpriced" {_UNPRICED_TITLE}>unpriced</span>'


def _budget_rows(s: Standing, unpriced: bool) -> str:
    """A row per limit of ``s`` (tokens, then US dollars), each with its own bar;
    the dollar row marked when ``unpriced`` tokens of the persona are not in it."""
    reset = "never" if s.resets_in is None else f"in {human_duration(s.resets_in)}"
    rows = []
    for limit in s.bars:
        marked = unpriced and limit.unit == "usd"
        fraction = limit.fraction
        state = "over" if limit.overspent else "warn" if fraction >= 0.75 else "ok"
        colour = {"over": "#c33", "warn": "#d90", "ok": "#3a7"}[state]
        width = min(100.0, max(0.0, fraction * 100))
        bar = (  # SVG attributes, not inline styles: the CSP allows no inline style
            '<svg class="bar" width="160" height="12" viewBox="0 0 100 12" '
            'preserveAspectRatio="none" aria-hidden="true">'
            f'<rect width="100" height="12" fill="#e8e8e8"/>'
            f'<rect width="{width:.1f}" height="12" fill="{colour}"/></svg>'
        )
        rows.append(
            f'<tr class="{state}" data-persona="{_e(s.persona)}" data-unit="{limit.unit}">'
            f"<td>{_e(s.persona)}</td><td>{bar} {fraction:.0%}</td>"
            f"<td class=n>{_e(limit.amount('/'))}{_UNPRICED if marked else ''}</td>"
            f"<td>{_e(s.period)}</td>"
            f'<td class="n left">{_e(limit.left_text("overspent"))}</td><td>{_e(reset)}</td></tr>'
        )
    return "".join(rows)


def _sparkline(values: list[float], width: int = 600, height: int = 80) -> str:
    top = max(values) or 1.0
    step = width / max(1, len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - 4 - (v / top) * (height - 8):.1f}" for i, v in enumerate(values)
    )
    return (
        f'<svg role="img" aria-label="spend per day, last {len(values)} days" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f'<polyline fill="none" stroke="#3a7" stroke-width="2" points="{points}"/></svg>'
    )


class StatusPage:
    """Renders ``/`` from the fold's state (and the journal, when there is one)."""

    def __init__(
        self,
        state: MetricState,
        config: Config,
        spend: Callable[[float], Spend | None] | None = None,
    ):
        self.state = state
        self.config = config
        #: Spend by persona and day (``sync.spend``), when a journal keeps it.
        self.spend = spend

    def render(self) -> str:
        """The page's HTML."""
        view = self.state.view()
        now = view.now
        standings = view.standings()
        costs = view.counter(c.PERSONA_COST.name)
        failed = view.recent_failed_gates
        by_model: dict[str, float] = {}
        for (_, _, model), amount in costs.items():
            by_model[model] = by_model.get(model, 0.0) + amount
        # Tokens nobody priced (no price, no reported cost): their dollars are
        # unknown, so they are marked, never shown as $0.00.
        unpriced = view.counter(c.PERSONA_UNPRICED_TOKENS.name)
        unpriced_personas = {persona for (persona, _), tokens in unpriced.items() if tokens}
        unpriced_models = {model for (_, model), tokens in unpriced.items() if tokens}
        spend = self.spend(now) if self.spend is not None else None
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M UTC")
        parts = [
            "<!doctype html><html lang=en><head><meta charset=utf-8>",
            f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>hypertool-exporter status</title><style>{STYLE}</style></head><body>",
            f"<h1>hypertool-exporter {_e(__version__)}</h1>",
            '<nav><a href="/metrics">/metrics</a><a href="/healthz">/healthz</a></nav>',
            f'<p class="muted">As of {stamp}; refreshes every {REFRESH_SECONDS} s.</p>',
            "<h2>Budgets</h2>",
        ]
        if standings:
            parts.append(
                '<table id="budgets"><tr><th>persona</th><th>used</th><th class=n>amount</th>'
                "<th>period</th><th class=n>left</th><th>resets</th></tr>"
            )
            parts += [_budget_rows(s, s.persona in unpriced_personas) for s in standings]
            parts.append("</table>")
        else:
            parts.append('<p class="muted">No budgets configured.</p>')
        parts.append("<h2>Spend</h2>")
        if spend is None:
            parts.append('<p class="muted">No journal: spend by day is not kept.</p>')
        else:
            rows, line = spend.by_persona, spend.by_day
            parts.append(
                '<table id="spend"><tr><th>persona</th><th class=n>today</th>'
                "<th class=n>this month</th></tr>"
            )
            for persona, (today, month) in sorted(rows.items(), key=lambda kv: -kv[1][1]):
                mark = _UNPRICED if persona in unpriced_personas else ""
                parts.append(
                    f"<tr><td>{_e(persona)}</td><td class=n>{_usd(today)}{mark}</td>"
                    f"<td class=n>{_usd(month)}{mark}</td></tr>"
                )
            parts.append(
                f"</table><p>Last {SPARKLINE_DAYS} days: {_sparkline(line)} "
                f"{_usd(sum(line))} in all</p>"
            )
        parts.append('<h2>Top models</h2><table id="models">')
        parts.append("<tr><th>model</th><th class=n>cost since start</th></tr>")
        top = sorted(by_model.items(), key=lambda kv: -kv[1])[:TOP_MODELS]
        # And the models nobody priced, whatever they cost: they need a price.
        top += [(m, by_model.get(m, 0.0)) for m in sorted(unpriced_models)[:TOP_MODELS]]
        for model, amount in dict(top).items():
            if model in unpriced_models:
                shown = _UNPRICED_ONLY if amount == 0 else f"{_usd(amount)}{_UNPRICED}"
            else:
                shown = _usd(amount)
            parts.append(f"<tr><td>{_e(model)}</td><td class=n>{shown}</td></tr>")
        parts.append('</table><h2>Last failed quality gates</h2><table id="gates">')
        parts.append("<tr><th>when</th><th>workflow</th><th>stage</th><th>persona</th></tr>")
        for ts, workflow, stage, persona in sorted(failed, reverse=True):
            when = datetime.fromtimestamp(ts, UTC).strftime("%m-%d %H:%M")
            parts.append(
                f"<tr><td>{when}</td><td>{_e(workflow)}</td><td>{_e(stage)}</td>"
                f"<td>{_e(persona)}</td></tr>"
            )
        parts.append("</table></body></html>")
        return "".join(parts)


__all__ = ["CONTENT_SECURITY_POLICY", "REFRESH_SECONDS", "STYLE", "StatusPage"]
