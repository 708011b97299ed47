import pytest
from harness.support import http_get, wait_for
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_families
from prometheus_client.parser import text_string_to_metric_families

from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.instrument.tokens import (
    TOKEN_USAGE_OPTIONS,
    TokenUsageOptions,
)
from hypertool_exporter.model import catalog as c
from hypertool_exporter.model.fields import EventError

NOW = 1_795_000_000.0  # a fixed clock: 2026-11-18


def make(registry, config):
    return PersonaMetricsCollector(registry, config=config, clock=lambda: NOW)


def test_seed_api_records_exact_values(registry, example_config):
    collector = make(registry, example_config)
    collector.switch_persona(None, "backend-engineer", "implement")
    collector.record_token_usage(
        "backend-engineer", "implement", "gpt-4", input_tokens=600, output_tokens=250
    )
    collector.record_workflow_stage("release", "build", "backend-engineer", 42.0, True)
    collector.record_llm_call("backend-engineer", "gpt-4", 1.5, error_type="timeout")
    get = registry.get_sample_value
    assert (
        get(
            "hypertool_persona_switches_total",
            {"from_persona": "none", "to_persona": "backend-engineer", "chatmode": "implement"},
        )
        == 1
    )
    assert get("hypertool_persona_token_budget_remaining", {"persona": "backend-engineer"}) == 4150
    assert (
        get(
            "hypertool_persona_token_budget_used",
            {"persona": "backend-engineer", "period": "daily"},
        )
        == 850
    )
    assert get(
        "hypertool_persona_cost_usd_total",
        {"persona": "backend-engineer", "chatmode": "implement", "model": "gpt-4"},
    ) == pytest.approx(0.033)
    assert (
        get(
            "hypertool_workflow_quality_gate_total",
            {
                "workflow": "release",
                "stage": "build",
                "result": "passed",
                "persona": "backend-engineer",
            },
        )
        == 1
    )
    assert (
        get(
            "hypertool_workflow_stage_duration_seconds_bucket",
            {"workflow": "release", "stage": "build", "persona": "backend-engineer", "le": "60.0"},
        )
        == 1
    )
    assert (
        get("hypertool_llm_request_errors_total", {"persona": "backend-engineer", "model": "gpt-4"})
        == 1
    )
    # The period resets at the next UTC midnight.
    reset = get("hypertool_persona_token_budget_reset_seconds", {"persona": "backend-engineer"})
    assert 0 < reset <= 86400 and (NOW + reset) % 86400 == 0


def test_seed_single_tokens_argument(registry, example_config):
    collector = make(registry, example_config)
    collector.record_token_usage("qa", "default", "gpt-4", tokens=100)
    assert (
        registry.get_sample_value(
            "hypertool_persona_tokens_used_total",
            {"persona": "qa", "chatmode": "default", "model": "gpt-4", "token_type": "input"},
        )
        == 100
    )


def test_bad_input_raises_counts_and_keeps_what_was_recorded(registry, example_config):
    collector = make(registry, example_config)
    collector.record_token_usage("qa", "default", "gpt-4", 10, 0)
    with pytest.raises(EventError, match="input_tokens: must not be negative"):
        collector.record_token_usage("qa", "default", "gpt-4", -10, 0)
    with pytest.raises(EventError, match="duration_seconds: must be finite"):
        collector.record_workflow_stage("w", "s", "qa", float("nan"), True)
    assert (
        registry.get_sample_value(
            "hypertool_exporter_events_rejected_total", {"reason": "invalid_field"}
        )
        == 2
    )
    assert (
        registry.get_sample_value(
            "hypertool_persona_tokens_used_total",
            {"persona": "qa", "chatmode": "default", "model": "gpt-4", "token_type": "input"},
        )
        == 10
    )


def feed_everything(collector):
    collector.switch_persona(None, "testing-specialist", "test")
    collector.switch_persona(None, "backend-engineer", "implement")
    collector.record_token_usage("devops-engineer", "deploy", "gpt-4", 10, 1)
    collector.record_token_usage("testing-specialist", "test", "gpt-4", 100, 10)
    collector.record_token_usage("testing-specialist", "test", "unpriced-model", 1, 1)
    collector.record_token_usage(  # priced by genai-prices, every token type
        "testing-specialist",
        "test",
        "gpt-4o-mini",
        10,
        5,
        cache_read_tokens=4,
        cache_write_tokens=1,
        reasoning_tokens=2,
    )
    collector.record_token_usage("testing-specialist", "test", "routed-model", 3, 2, cost_usd=0.01)
    collector.record_workflow_stage("release", "test", "testing-specialist", 5.0, False)
    collector.record_token_usage(  # made inside a workflow stage
        "testing-specialist", "test", "gpt-4", 20, 2, workflow="release", stage="test"
    )
    collector.record_workflow_run("release", False, 30.0, persona="testing-specialist")
    collector.record_workflow_run("release", True, 20.0)  # restored: a recovery
    collector.record_tool_call("testing-specialist", "pytest", 1.5, error_type="Timeout")
    collector.record_quality_score("testing-specialist", "relevance", 0.7, label="good")
    collector.record_llm_call("testing-specialist", "gpt-4", 0.3, ttft_seconds=0.05)
    collector.record_llm_call("testing-specialist", "gpt-4", 0.2, usage_unknown=True)
    collector.state.reject("malformed")
    for n in range(collector.state.config.max_label_values + 1):  # one stage past the cap
        collector.record_workflow_stage("release", f"stage-{n}", "testing-specialist", 1.0)


def test_every_catalog_entry_is_served_with_its_type_and_labels(tmp_path):
    from conftest import EXAMPLE_CONFIG

    from hypertool_exporter.model.config import parse_config

    # devops-engineer's budget is shared by a fleet, so the fleet limits are served too.
    fleet = "  devops-engineer: {tokens: 30000, usd: 25, period: weekly, scope: fleet}\n"
    config = parse_config(EXAMPLE_CONFIG.replace("budgets:\n", "budgets:\n" + fleet))
    collector = PersonaMetricsCollector(config=config, journal=tmp_path / "j.sqlite")
    feed_everything(collector)
    port = collector.serve(port=0)
    try:
        wait_for(
            lambda: (
                sum(collector.state.view().counters[c.EVENTS_APPLIED.name].values())
                == 15 + config.max_label_values + 1
            ),
            what="the tailer to apply the journal",
        )
        _, text = http_get(f"http://127.0.0.1:{port}/metrics")
    finally:
        collector.close()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    for spec in c.CATALOG:
        name = spec.name if spec.kind != "counter" else spec.family
        family = families.get(name)
        assert family is not None, f"{spec.name} missing from /metrics"
        expected_type = "gauge" if spec.kind == "info" else spec.kind
        assert family.type == expected_type, spec.name
        assert family.samples, f"{spec.name} has no samples"
        for s in family.samples:
            labels = set(s.labels) - {"le"}
            assert labels == set(spec.labels), (spec.name, s.labels)
            for label, allowed in spec.closed_values.items():
                assert s.labels[label] in allowed, (spec.name, s.labels)


def test_openmetrics_negotiation(registry, example_config):
    collector = make(registry, example_config)
    feed_everything(collector)
    port = collector.serve(port=0)
    try:
        _, text = http_get(
            f"http://127.0.0.1:{port}/metrics",
            {"Accept": "application/openmetrics-text; version=1.0.0"},
        )
        status, landing = http_get(f"http://127.0.0.1:{port}/")
    finally:
        collector.close()
    assert text.endswith("# EOF\n")
    families = {f.name: f for f in om_families(text)}
    assert families["hypertool_persona_cost_usd"].unit == "usd"
    assert families["hypertool_exporter_build"].type == "info"
    assert status == 200 and "/metrics" in landing


def test_journalled_collector_survives_a_restart(example_config, tmp_path):
    journal = tmp_path / "app.sqlite"
    first = PersonaMetricsCollector(config=example_config, journal=journal)
    first.record_token_usage("backend-engineer", "implement", "gpt-4", 600, 250)
    first.switch_persona(None, "backend-engineer", "implement")
    first.close()  # final snapshot

    second = PersonaMetricsCollector(config=example_config, journal=journal)
    try:
        second.record_token_usage("backend-engineer", "implement", "gpt-4", 100, 0)
        wait_for(
            lambda: (
                second.registry.get_sample_value(
                    "hypertool_persona_token_budget_used",
                    {"persona": "backend-engineer", "period": "daily"},
                )
                == 950
            ),
            what="the restored state plus the new event",
        )
        assert (
            second.registry.get_sample_value(
                "hypertool_persona_switches_total",
                {"from_persona": "none", "to_persona": "backend-engineer", "chatmode": "implement"},
            )
            == 1
        )
    finally:
        second.close()


def test_demo_traffic_covers_every_event_and_stays_ordered_per_session():
    from hypertool_exporter.cli.demo import TrafficGenerator

    events = TrafficGenerator(seed=1).backlog(NOW, 50)
    # A late charge to a workflow comes of OTLP spans only (``model.waiting``).
    assert {type(e).TYPE for e in events} == set(c.EVENT_TYPES) - {"workflow_charged"}
    last: dict[str, float] = {}
    for event in events:
        session = getattr(event, "session", None)
        if session is not None:
            assert event.ts >= last.get(session, 0.0)
            last[session] = event.ts
    assert any(getattr(e, "gate", None) == "failed" for e in events)
    assert any(getattr(e, "error_type", None) for e in events)
    assert TrafficGenerator(seed=1).backlog(NOW, 50) == events  # deterministic


def test_token_options_are_checked_like_keyword_arguments(registry, example_config):
    """``record_token_usage`` takes its options as ``**options`` for speed; a
    name that is not one is refused as Python refuses an unknown keyword,
    before anything is recorded, whether the label values are known or not."""
    collector = make(registry, example_config)
    collector.record_token_usage("qa", "default", "gpt-4", 10, 0)
    for labels in (("qa", "default", "gpt-4"), ("qa", "new-mode", "gpt-4")):
        with pytest.raises(
            TypeError,
            match=r"^record_token_usage\(\) got an unexpected keyword argument 'cache_tokens'$",
        ):
            collector.record_token_usage(*labels, 5, 0, cache_tokens=3)
    with pytest.raises(TypeError):
        collector.record_token_usage("qa", "default", "gpt-4", 1, 2, 3)  # options are keywords
    collector.state.drain()
    tokens = "hypertool_persona_tokens_used_total"
    labels = {"persona": "qa", "chatmode": "default", "model": "gpt-4", "token_type": "input"}
    assert registry.get_sample_value(tokens, labels) == 10
    assert registry.get_sample_value(tokens, {**labels, "chatmode": "new-mode"}) is None


def test_every_token_option_is_taken_and_no_other(registry):
    """The options' type is the list the full path takes (with the seed's
    ``tokens=``): each option, given alone, is accepted; a keyword not in it
    is refused by name."""
    assert set(TokenUsageOptions.__annotations__) == TOKEN_USAGE_OPTIONS
    collector = PersonaMetricsCollector(registry)
    given = {
        "tokens": 3,
        "trace_id": "ab" * 16,
        "cache_read_tokens": 1,
        "cache_write_tokens": 1,
        "reasoning_tokens": 1,
        "cost_usd": 0.01,
        "provider": "openai",
        "operation": "chat",
        "reservation_id": "rsv_none",  # no journal: nothing to release
        "workflow": "release",
        "stage": "test",
    }
    assert given.keys() == TOKEN_USAGE_OPTIONS | {"tokens"}
    for name, value in given.items():
        counts = (0, 0) if name == "tokens" else (5, 5)
        options = {name: value}
        if name in ("workflow", "stage"):  # a workflow stage has both
            options = {"workflow": "release", "stage": "test"}
        collector.record_token_usage("qa", "default", "gpt-4", *counts, **options)
    with pytest.raises(TypeError, match="'cache_tokens'"):
        collector.record_token_usage("qa", "default", "gpt-4", 1, 1, cache_tokens=1)


def test_the_seed_count_beside_other_counts_or_options(registry):
    """``tokens=`` with options is the input of a record with those options;
    beside input or output counts it is refused by name, recording nothing."""
    collector = PersonaMetricsCollector(registry)
    collector.record_token_usage("qa", "default", "gpt-4", tokens=40, cost_usd=0.25)
    with pytest.raises(EventError, match="tokens: give tokens= or input_tokens"):
        collector.record_token_usage("qa", "default", "gpt-4", 5, tokens=40)
    collector.state.drain()
    tokens = "hypertool_persona_tokens_used_total"
    labels = {"persona": "qa", "chatmode": "default", "model": "gpt-4", "token_type": "input"}
    assert registry.get_sample_value(tokens, labels) == 40
    reported = {"persona": "qa", "chatmode": "default", "model": "gpt-4", "source": "provider"}
    assert registry.get_sample_value("hypertool_persona_reported_cost_usd_total", reported) == 0.25


def test_known_labels_with_options_take_the_full_path(registry, example_config):
    """Options on a label set the fast path knows still count (reported cost,
    cache reads): the full path takes them."""
    collector = make(registry, example_config)
    collector.record_token_usage("qa", "default", "gpt-4", 10, 0)
    collector.record_token_usage("qa", "default", "gpt-4", 10, 5, cache_read_tokens=4)
    collector.record_token_usage("qa", "default", "gpt-4", tokens=7)
    collector.state.drain()
    labels = {"persona": "qa", "chatmode": "default", "model": "gpt-4"}
    tokens = "hypertool_persona_tokens_used_total"
    # The cache reads are part of the input, and shown as their own type.
    assert registry.get_sample_value(tokens, {**labels, "token_type": "input"}) == 10 + 6 + 7
    assert registry.get_sample_value(tokens, {**labels, "token_type": "cache_read"}) == 4


def test_serve_on_a_taken_port_names_it_and_the_way_out(registry):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        collector = PersonaMetricsCollector(registry)
        with pytest.raises(
            OSError, match=rf"cannot listen on 127\.0\.0\.1:{port}: .*HYPERTOOL_PORT"
        ):
            collector.serve(port=port)
        collector.close()
