"""``MetricSpec``: how one metric is declared (the declarations are in ``catalog``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

MetricKind = Literal["counter", "gauge", "histogram", "info"]


@dataclass(frozen=True)
class MetricSpec:
    """One metric: what a scrape shows, and what a dashboard or rule may name.

    ``name`` is the sample name as it appears in the Prometheus text format
    (counters keep their ``_total``). ``closed_values`` lists, for labels whose
    values are a fixed set, every value the exporter can emit.
    """

    name: str
    kind: MetricKind
    help: str
    labels: tuple[str, ...] = ()
    unit: str = ""
    buckets: tuple[float, ...] = ()
    closed_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    group: str = "persona"

    @property
    def family(self) -> str:
        """Family name as prometheus_client and OpenMetrics want it."""
        if self.kind == "counter" and self.name.endswith("_total"):
            return self.name[: -len("_total")]
        if self.kind == "info" and self.name.endswith("_info"):
            return self.name[: -len("_info")]
        return self.name

    def sample_names(self) -> tuple[str, ...]:
        """Names of the samples this metric produces in the text format."""
        if self.kind == "histogram":
            return (f"{self.name}_bucket", f"{self.name}_sum", f"{self.name}_count")
        return (self.name,)


__all__ = ["MetricKind", "MetricSpec"]
