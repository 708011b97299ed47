from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry

from hypertool_exporter.model.config import parse_config

EXAMPLE_CONFIG = """\
budgets:
  default: {tokens: 100000, period: monthly}
  backend-engineer: {tokens: 5000, period: daily}
  testing-specialist: {tokens: 2000, usd: 1.5, period: weekly}
pricing:                       # USD per 1K tokens
  gpt-4: {input: 0.03, output: 0.06}
"""


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def example_config():
    return parse_config(EXAMPLE_CONFIG, "example.yml")


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "hypertool.yml"
    path.write_text(EXAMPLE_CONFIG)
    return path
