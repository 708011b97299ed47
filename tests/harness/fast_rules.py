"""The shipped rules with waiting times removed, for tests against a live Prometheus."""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any

from hypertool_exporter.bundle.config import BundleConfig


def fast_config(**overrides: Any) -> BundleConfig:
    """The shipped config with every ``for`` set to 0s, recording rules evaluated every
    second, the exceeded alerts' window at 5 s (and any overrides), so an alert fires
    and resolves within seconds of its condition."""
    zero: dict[str, Any] = {f.name: "0s" for f in fields(BundleConfig) if f.name.endswith("_for")}
    zero["recording_interval"] = "1s"
    zero["budget_exceeded_window"] = "5s"
    return replace(BundleConfig(), **{**zero, **overrides})
