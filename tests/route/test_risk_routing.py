"""Risk signals in routing: reason codes, the policy's queues and minimum urgencies."""

import pytest

from engine.errors import InvalidInput
from engine.route import Router, load_policy
from engine.settings import Settings
from engine.types import Handoff, RiskSignal
from tests.route.test_router import make


@pytest.fixture
def router() -> Router:
    return Router(load_policy(Settings().routing_file))


@pytest.mark.parametrize(
    ("kind", "queue", "priority", "urgency"),
    [
        ("security_incident", "security", "P1", "urgent"),
        ("safety_hazard", "safety", "P1", "urgent"),
        ("threat", "trust-and-safety", "P1", "urgent"),
        ("distress", "trust-and-safety", "P1", "urgent"),
        ("fraud", "fraud", "P2", "high"),
        ("legal_request", "legal", "P2", "high"),
        ("human_requested", "orders", "P3", "normal"),  # topic queue, the head's urgency
    ],
)
def test_each_kind_hands_off_routes_and_raises_as_the_policy_says(
    router: Router, kind: str, queue: str, priority: str, urgency: str
) -> None:
    route, handoff = router.decide(make(risk=(RiskSignal(kind, 0.8, ("head:0.80",)),)))  # type: ignore[arg-type]
    assert handoff.required and handoff.reasons[0] == kind
    assert "head:0.80" in handoff.details[0]
    assert (route.queue, route.priority, route.urgency) == (queue, priority, urgency)
    assert router.withholds_answer(handoff)  # the shipped policy lists every kind in withhold_answer


def test_the_most_urgent_risk_leads_and_urgency_never_drops(router: Router) -> None:
    signals = (RiskSignal("human_requested", 0.95), RiskSignal("threat", 0.6))
    route, handoff = router.decide(make(risk=signals))
    assert route.queue == "trust-and-safety" and route.priority == "P1"
    assert set(handoff.reasons) >= {"human_requested", "threat"}
    from engine.types import Prediction

    route, _ = router.decide(make(urgency=Prediction("urgent", 0.9), risk=(RiskSignal("fraud", 0.9),)))
    assert route.urgency == "urgent" and route.priority == "P1"


def test_no_risk_leaves_routing_as_before(router: Router) -> None:
    route, handoff = router.decide(make())
    assert route.queue == "orders" and route.urgency == "normal" and not handoff.required


def test_policy_rejects_unknown_kinds_and_urgencies(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for body in ("risk:\n  arson: {queue: x}\n", "risk:\n  threat: {queue: x, min_urgency: asap}\n"):
        path = tmp_path / "policy.yaml"
        path.write_text(body)
        with pytest.raises(InvalidInput):
            load_policy(path)


def test_a_risk_withholds_the_answer_even_when_the_policy_forgets_it(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # A routing file copied before risks existed lists only its own reasons: risky tickets still quote nothing.
    old = tmp_path / "routing.yaml"
    old.write_text("withhold_answer: [out_of_scope]\n")
    router = Router(load_policy(old))
    assert router.withholds_answer(Handoff(True, ("fraud",), ("charges the customer did not make",)))
    assert not router.withholds_answer(Handoff(True, ("pii_present",), ("card number",)))


def test_a_raised_urgency_stays_on_the_helpdesks_own_scale() -> None:
    """A head trained on low/medium/high has no "urgent": its label is kept, the raise shows in the priority."""
    from engine.route import reported_urgency
    from engine.types import LabelScore, Prediction

    own_scale = Prediction(
        "medium", 0.6, (LabelScore("medium", 0.6), LabelScore("high", 0.3), LabelScore("low", 0.1))
    )
    signal = (RiskSignal("security_incident", 0.9),)
    assert reported_urgency(own_scale, "urgent", signal) is own_scale
    raised = reported_urgency(own_scale, "high", signal)
    assert raised is not None and raised.label == "high" and raised.alternatives == own_scale.alternatives
    sifts_scale = Prediction("normal", 0.7, tuple(LabelScore(x, 0.25) for x in ("normal", "low", "high", "urgent")))
    assert reported_urgency(sifts_scale, "urgent", signal).label == "urgent"  # type: ignore[union-attr]
