"""Generators for everything shipped as code: docs tables, dashboards, rules."""
