"""The dashboards' variables: one ``datasource``, ``job``, and the ``persona``,
``workflow`` and ``model`` variables their queries use, scoped by the bundle's
selector like the queries are."""

from __future__ import annotations

import grafanalib.core as g

from ..model import catalog as c

#: The datasource every query and variable uses (the ``datasource`` variable).
DS = {"type": "prometheus", "uid": "${datasource}"}
#: The job matcher every query carries; the selector goes beside it.
JOB = 'job=~"$job"'


def with_selector(expr: str, selector: str) -> str:
    """``expr`` with the bundle's selector beside every ``$job`` matcher: every
    query selects by ``JOB``, so this one place scopes them all."""
    return expr.replace(JOB, f"{selector}, {JOB}") if selector else expr


def _query_variable(
    name: str, label: str, metric: str, label_name: str, selector: str = JOB
) -> g.Template:
    query = f"label_values({metric}{{{selector}}}, {label_name})"
    return g.Template(
        name=name,
        label=label,
        query=query,
        dataSource=DS,
        includeAll=True,
        multi=True,
        allValue=".*",
        default="$__all",
        refresh=2,
        sort=1,
    )


def variables(names: list[str], selector: str = "") -> g.Templating:
    """The datasource and job variables, then the named ones, scoped by ``selector``."""
    datasource = g.Template(
        name="datasource",
        label="Data source",
        query="prometheus",
        type="datasource",
        default="Prometheus",
    )
    job = g.Template(
        name="job",
        label="Job",
        query=f"label_values({c.BUILD_INFO.name}{{{selector}}}, job)"
        if selector
        else f"label_values({c.BUILD_INFO.name}, job)",
        dataSource=DS,
        includeAll=True,
        multi=True,
        allValue=".+",
        default="$__all",
        refresh=2,
        sort=1,
    )
    scoped = with_selector(JOB, selector)
    catalogue = {
        "persona": _query_variable("persona", "Persona", c.PERSONA_TOKENS.name, "persona", scoped),
        "workflow": _query_variable(
            "workflow", "Workflow", f"{c.STAGE_DURATION.name}_count", "workflow", scoped
        ),
        "model": _query_variable("model", "Model", c.LLM_REQUESTS.name, "model", scoped),
    }
    return g.Templating(list=[datasource, job, *(catalogue[n] for n in names)])


__all__ = ["DS", "JOB", "variables", "with_selector"]
