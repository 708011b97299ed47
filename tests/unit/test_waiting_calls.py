"""Calls waiting for their workflow (``model.waiting``): charged when it
arrives, let go when their ancestry holds none, given up past the wait or
the capacity, so memory stays bounded however many roots never come."""

from hypertool_exporter.model.events import TokensUsed
from hypertool_exporter.model.genai import SpanRecord
from hypertool_exporter.model.genai_work import work_tag
from hypertool_exporter.model.lineage import UsageLineage
from hypertool_exporter.model.waiting import WaitingCalls

TRACE = "ab" * 16


def span(span_id, parent, **attributes):
    return SpanRecord(TRACE, span_id, parent, "s", 0, 1, attributes, {})


def learn(lineage, *spans):
    decisions = lineage.decide(list(spans), [False] * len(spans), [work_tag(s) for s in spans])
    lineage.commit(decisions)


CALL = TokensUsed("qa", "m", 1000, 10, "default", 5.0)


def test_a_waiting_call_is_charged_when_its_workflow_arrives():
    lineage, waiting = UsageLineage(), WaitingCalls()
    learn(lineage, span("c1", "t1"))
    waiting.add(TRACE, "c1", "t1", CALL, now=0.0)
    assert waiting.settle(lineage, {TRACE}) == ([], [])  # nothing above it yet
    learn(
        lineage,
        span("t1", "w1", **{"traceloop.span.kind": "task", "traceloop.entity.name": "build"}),
        span(
            "w1", None, **{"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "r"}
        ),
    )
    charges, done = waiting.settle(lineage, {TRACE})
    [(key, charge)] = charges
    assert key == f"span:{TRACE}c1/WorkflowCharged"
    assert (charge.workflow, charge.stage, charge.model, charge.input_tokens) == (
        "r",
        "build",
        "m",
        1000,
    )
    assert done == [(TRACE, "c1")]
    waiting.remove(done)
    assert len(waiting) == 0 and waiting.given_up == 0


def test_a_call_in_no_workflow_stops_waiting_uncharged():
    lineage, waiting = UsageLineage(), WaitingCalls()
    waiting.add(TRACE, "c1", "p1", CALL, now=0.0)
    learn(lineage, span("c1", "p1"), span("p1", None))  # a plain root above it
    assert waiting.settle(lineage, {TRACE}) == ([], [(TRACE, "c1")])


def test_waiting_is_bounded_in_time_and_in_number():
    waiting = WaitingCalls(wait_seconds=60.0, capacity=3)
    for n in range(5):
        waiting.add(f"{n:032x}", "c", "p", CALL, now=float(n))
    assert len(waiting) == 3 and waiting.given_up == 2  # the oldest went first
    waiting.expire(now=63.5)  # calls 2 and 3 waited 60 s or more
    assert len(waiting) == 1 and waiting.given_up == 4
    waiting.expire(now=10_000.0)
    assert len(waiting) == 0 and waiting.given_up == 5
