"""The pieces every generated rule is made of: label matchers, an alert, its
runbook link. Shared by ``rules`` and ``budget_rules``."""

from __future__ import annotations

from typing import Any

from .config import BundleConfig


def matchers(*given: str) -> str:
    """A PromQL label-matcher list; ``{}`` (any series) when there are none."""
    return "{" + ", ".join(m for m in given if m) + "}"


def alert(
    name: str, expr: str, for_: str, severity: str, summary: str, description: str
) -> dict[str, Any]:
    """An alerting rule (no ``for`` when it is zero: it fires at the first
    evaluation that finds it true)."""
    rule: dict[str, Any] = {"alert": name, "expr": expr}
    if for_ and for_ != "0s":
        rule["for"] = for_
    rule["labels"] = {"severity": severity}
    rule["annotations"] = {"summary": summary, "description": description}
    return rule


def with_runbook(config: BundleConfig, rule: dict[str, Any]) -> dict[str, Any]:
    """Add ``runbook_url`` pointing at the alert's section of docs/runbook.md."""
    anchor = rule["alert"].lower()
    rule["annotations"]["runbook_url"] = f"{config.runbook_base_url}#{anchor}"
    return rule


__all__ = ["alert", "matchers", "with_runbook"]
