"""The risk stage with the shipped head and lexicon, and inside the real pipeline."""

from __future__ import annotations

import pytest

from engine.models.registry import ModelRegistry
from engine.pipeline import Pipeline
from engine.risk import RiskDetector, RiskInput
from engine.route import load_policy
from engine.settings import Settings
from engine.types import LanguageResult, Message, RiskSignal, Ticket

pytestmark = pytest.mark.slow

# Calm wordings, none of them a line of the training data.
RISKY = [
    ("security_incident", "en", "Hello, there's a tablet in my device list that I've never owned. Could you have a look?"),
    ("security_incident", "de", "Jemand hat sich gestern Nacht mit meinem Konto angemeldet, ich war es nicht."),
    ("security_incident", "pt", "Parece que alguém entrou na minha conta, o e-mail já não é o meu."),
    ("safety_hazard", "en", "Just so you know, the bulb in the kitchen made a popping noise and there was a bit of smoke."),
    ("safety_hazard", "fr", "La prise du salon est brûlante et sent le plastique fondu."),
    ("safety_hazard", "hr", "Punjač je bio vruć i iz njega je izašlo malo dima."),
    ("threat", "en", "I have been calm so far, but I know where your support manager lives."),
    ("threat", "it", "Se non mi rimborsate, vengo da voi e qualcuno si farà male."),
    ("legal_request", "en", "Please consider this a formal data subject access request for all my information."),
    ("legal_request", "es", "Mi abogado les enviará una carta la semana que viene."),
    ("legal_request", "nl", "Ik wil dat u al mijn persoonsgegevens verwijdert, op grond van de AVG."),
    ("fraud", "en", "There is a payment to Lumio on my statement that I did not make."),
    ("fraud", "de", "Auf meiner Karte ist eine Zahlung an Lumio, die ich nicht getätigt habe."),
    ("fraud", "it", "Qualcuno ha usato la mia carta per comprare da voi."),
    ("distress", "en", "Honestly I don't want to live anymore, nothing works out."),
    ("distress", "es", "A veces pienso en quitarme la vida."),
    ("distress", "nl", "Ik wil eigenlijk niet meer leven."),
    ("human_requested", "en", "Could I please speak to a real person about this?"),
    ("human_requested", "fr", "Je voudrais parler à un conseiller, s'il vous plaît."),
    ("human_requested", "hr", "Želim razgovarati s čovjekom, ne s botom."),
]
LOOK_ALIKES = [
    ("en", "How do I change my email address?"),
    ("en", "What is the plug's maximum temperature?"),
    ("en", "How do I add a new member to my home?"),
    ("de", "Wie ändere ich mein Passwort?"),
    ("es", "¿Cuánto tarda en llegar mi pedido?"),
    ("fr", "Comment installer l'ampoule dans la salle de bain ?"),
    ("hr", "Kako dodati novog člana u kućanstvo?"),
    ("it", "Qual è la temperatura massima della presa?"),
    ("pt", "Como altero o meu endereço de e-mail?"),
    ("nl", "Hoe reset ik mijn wachtwoord?"),
]


@pytest.fixture(scope="module")
def detector(registry: ModelRegistry, settings: Settings) -> RiskDetector:
    stage = RiskDetector(registry, load_policy(settings.routing_file).thresholds.risk)
    stage.warm_up()
    return stage


def detect(
    detector: RiskDetector, registry: ModelRegistry, texts: list[str], languages: list[str]
) -> list[tuple[RiskSignal, ...]]:
    vectors = registry.encoder.encode_queries(texts)
    pairs = enumerate(zip(texts, languages, strict=True))
    return detector.detect([RiskInput((t,), vectors[i : i + 1], LanguageResult(lang, 0.99)) for i, (t, lang) in pairs])


def test_each_kind_fires_in_several_languages(detector: RiskDetector, registry: ModelRegistry) -> None:
    found = detect(detector, registry, [t for _, _, t in RISKY], [lang for _, lang, _ in RISKY])
    missed = [(kind, lang) for (kind, lang, _), signals in zip(RISKY, found, strict=True) if kind not in {s.kind for s in signals}]
    assert missed == []
    assert all(s.evidence and all(e.startswith(("lexicon:", "head:")) for e in s.evidence) for f in found for s in f)


def test_look_alikes_do_not_fire(detector: RiskDetector, registry: ModelRegistry) -> None:
    found = detect(detector, registry, [t for _, t in LOOK_ALIKES], [lang for lang, _ in LOOK_ALIKES])
    assert [(t, s) for (_, t), s in zip(LOOK_ALIKES, found, strict=True) if s] == []


@pytest.mark.parametrize(
    ("text", "kind", "priority"),
    [
        ("I got an email saying my account email was changed, but I did not change it", "security_incident", "P1"),
        ("my plug got quite hot and there is a smell of burning plastic", "safety_hazard", "P1"),
        ("I will come to your office... I know where your staff live", "threat", "P1"),
    ],
)
def test_the_issues_examples_reach_a_person_at_once(pipeline: Pipeline, text: str, kind: str, priority: str) -> None:
    [result] = pipeline.run([Ticket(text=text)], ["t"])
    assert kind in {s.kind for s in result.risk}
    assert result.handoff.required and kind in result.handoff.reasons
    assert result.route.priority == priority and result.urgency is not None and result.urgency.label == "urgent"
    assert result.draft is not None and result.draft.citations == ()
    assert not any(a.title in result.draft.text for a in result.articles)


def test_raised_urgency_keeps_the_heads_own_reading(pipeline: Pipeline) -> None:
    text = "Good afternoon, the hallway switch gave me a small shock yesterday. No rush, thanks."
    [result] = pipeline.run([Ticket(text=text)], ["t"])
    assert result.urgency is not None and result.urgency.label == "urgent"
    assert result.urgency.model_version and result.urgency.model_version.endswith("+risk-policy")
    head = max(result.urgency.alternatives, key=lambda a: a.probability)
    assert head.label != "urgent"  # the head's own reading, still visible
    assert f"risk safety_hazard raises urgency {head.label} -> urgent" in result.route.reasons


def test_a_risk_in_an_earlier_message_counts(pipeline: Pipeline) -> None:
    history = (Message("If I don't get a refund I know where your staff live."), Message("Thanks for your reply.", "agent"))
    [result] = pipeline.run([Ticket(text="Any news on my refund for order 44812?", messages=history)], ["t"])
    assert "threat" in result.handoff.reasons


def test_an_everyday_ticket_carries_no_risk(pipeline: Pipeline) -> None:
    [result] = pipeline.run([Ticket(text="How do I change my email address?")], ["t"])
    assert result.risk == () and not any(r in result.handoff.reasons for r in ("security_incident", "fraud"))


def test_a_broken_risk_stage_is_isolated(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> None:
        raise RuntimeError("lexicon unreadable")

    monkeypatch.setattr(pipeline.risk, "run", broken)
    [result] = pipeline.run([Ticket(text="Where is my parcel? It has been two weeks.")], ["x"])
    assert result.failed_stages == ("risk",) and "stage_failed:risk" in result.handoff.reasons
    assert result.topic is not None and result.risk == ()
    assert result.draft is not None and result.draft.citations == ()
