"""The fast /metrics renderer gives exactly the samples prometheus_client gives."""

import string

from conftest import EXAMPLE_CONFIG
from harness.support import http_get
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as om_latest
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
from prometheus_client.parser import text_string_to_metric_families as text_parse

from hypertool_exporter.exposition.textformat import StateRenderer
from hypertool_exporter.instrument.collector import PersonaMetricsCollector
from hypertool_exporter.model.config import parse_config
from hypertool_exporter.model.events import (
    LLMCallFinished,
    PersonaSwitched,
    StageFinished,
    TokensUsed,
)

NOW = 1_795_000_000.0
TRACE = "0af7651916cd43dd8448eb211c80319c"


def samples(families) -> list:
    return sorted(
        (s.name, tuple(sorted(s.labels.items())), s.value, repr(s.exemplar))
        for f in families
        for s in f.samples
    )


def make(config) -> tuple[PersonaMetricsCollector, CollectorRegistry]:
    registry = CollectorRegistry()
    return PersonaMetricsCollector(registry, config=config, clock=lambda: NOW), registry


def feed(collector: PersonaMetricsCollector, persona: str = "backend-engineer") -> None:
    state = collector.state
    state.apply(PersonaSwitched(persona, "implement", None, "s", NOW - 100))
    state.apply(PersonaSwitched("qa", "test", None, "s", NOW - 40))
    state.apply(TokensUsed(persona, "gpt-4", 600, 250, "implement", NOW - 90, TRACE))
    state.apply(TokensUsed(persona, "no-price", 3, 0, "implement", NOW - 80))
    state.apply(StageFinished("release", "build", persona, 42.5, "passed", NOW - 70, TRACE))
    state.apply(StageFinished("release", "build", persona, 900.0, "failed", NOW - 60))
    state.apply(LLMCallFinished(persona, "gpt-4", 1.25, "timeout", NOW - 50, TRACE))
    collector.record_token_usage(persona, "chat", "gpt-4", 1, 2)  # the batched hot path


def test_text_and_openmetrics_match_prometheus_client(example_config):
    collector, registry = make(example_config)
    feed(collector)
    renderer = StateRenderer(collector.state)
    assert samples(text_parse(renderer.render(False))) == samples(
        text_parse(generate_latest(registry).decode())
    )
    fast_om = renderer.render(True) + "# EOF\n"
    assert samples(om_parse(fast_om)) == samples(om_parse(om_latest(registry).decode()))
    assert f'trace_id="{TRACE}"' in fast_om
    # A second render (cached prefixes) is identical.
    assert renderer.render(True) + "# EOF\n" == fast_om


def test_served_body_has_the_other_collectors_and_one_eof(example_config):
    collector, registry = make(example_config)
    feed(collector)
    provider = collector.otel_meter_provider()
    provider.get_meter("app").create_counter("app_requests").add(3)
    port = collector.serve(port=0)
    try:
        _, text = http_get(f"http://127.0.0.1:{port}/metrics")
        _, om = http_get(
            f"http://127.0.0.1:{port}/metrics",
            {"Accept": "application/openmetrics-text; version=1.0.0"},
        )
        reference = generate_latest(registry).decode()
    finally:
        collector.close()
        provider.shutdown()
    assert om.count("# EOF") == 1 and om.endswith("# EOF\n")
    names = {f.name for f in om_parse(om)}
    assert {"app_requests", "hypertool_persona_tokens_used"} <= names
    assert samples(text_parse(text)) == samples(text_parse(reference))


label_text = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + ' "\\\n{}=,#é日-_.'),
    min_size=1,
    max_size=20,
).filter(lambda s: s.strip() and not s.strip().startswith("__") and "\n" not in s.strip())


@settings(max_examples=60, deadline=None)
@given(persona=label_text, model=label_text)
def test_any_label_value_round_trips(persona, model):
    """Quotes, backslashes and unicode in label values survive both formats."""
    collector, registry = make(parse_config(EXAMPLE_CONFIG))
    try:
        collector.record_token_usage(persona, "m", model, 5, 7)
    except ValueError:
        return  # rejected by validation: nothing to render
    renderer = StateRenderer(collector.state)
    assert samples(text_parse(renderer.render(False))) == samples(
        text_parse(generate_latest(registry).decode())
    )
    assert samples(om_parse(renderer.render(True) + "# EOF\n")) == samples(
        om_parse(om_latest(registry).decode())
    )


def test_fast_exposition_skips_only_the_state_collector(example_config):
    collector, _ = make(example_config)
    feed(collector)
    exposition = collector.exporter.exposition
    body, content_type = exposition.render(False)
    assert content_type.startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert text.count("# TYPE hypertool_persona_tokens_used_total counter") == 1


def test_warm_up_builds_every_series_prefix_and_changes_no_body(example_config):
    collector, registry = make(example_config)
    feed(collector)
    exposition = collector.exporter.exposition
    exposition.warm()
    prefixed = exposition.renderer.prefixed("hypertool_persona_tokens_used_total")
    tokens = collector.state.view().counters["hypertool_persona_tokens_used_total"]
    assert prefixed == tokens.keys() and prefixed
    assert samples(text_parse(exposition.render(False)[0].decode())) == samples(
        text_parse(generate_latest(registry).decode())
    )


def test_concurrent_scrapes_share_renders_and_nothing_stays_cached(example_config):
    import threading
    import time

    from prometheus_client.registry import Collector

    collector, registry = make(example_config)
    exposition = collector.exporter.exposition
    renders = []

    class SlowCollector(Collector):
        """Another collector of the registry: every render collects it once."""

        def collect(self):
            renders.append(time.monotonic())
            time.sleep(0.2)  # a slow collector is what this test is about, not a wait
            return []

    registry.register(SlowCollector())
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(exposition.render(False))) for _ in range(12)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(results) == 12 and all(body for body, _ in results)
    assert len(renders) <= 3  # a burst costs about two renders, not twelve
    assert exposition.bodies_kept == 0  # idle: no body kept in memory
