"""Everything shipped as code: dashboards, alert and recording rules, docs tables.

``config`` (one object for every threshold and selector), ``grafana`` (the
panel toolkit), ``dashboards`` (one module per dashboard), ``rules``
(with ``budget_rules``, the budget alerts for tokens and dollars,
``slo_rules``, error budgets and delivery outcomes, and ``rule_parts``,
what every rule is made of), ``variables`` (the
dashboards' template variables), ``kubernetes`` (the manifests for the
Prometheus Operator and Grafana's sidecar), ``docs`` and ``build``.

May import: ``model`` (the catalog), grafanalib and PyYAML.
"""
