"""The shipped sentiment head, lexicons and fusion on the real encoder."""

import json

import pytest

from engine.models.encoders import vector_space
from engine.models.registry import ModelRegistry
from engine.models.sentiment_lexicon import LEXICON_DIR
from engine.sentiment import SentimentAnalyser, trend_of


@pytest.fixture(scope="module")
def analyser(registry: ModelRegistry) -> SentimentAnalyser:
    return SentimentAnalyser(registry)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("This is the worst service ever, I am furious and want my money back!", "negative"),
        ("Das ist eine Frechheit, seit drei Wochen warte ich und niemand antwortet!", "negative"),
        ("Užasna usluga, nitko mi ne odgovara već tjedan dana!", "negative"),
        ("Thank you so much, the new bulb works perfectly and your team was wonderful!", "positive"),
        ("¡Muchas gracias, todo funciona genial! Estoy encantada.", "positive"),
        # A question about a problem is a request, not a complaint: no apology in the draft.
        ("How do I cancel my Lumio Plus subscription?", "neutral"),
        ("My card was declined at the shop.", "neutral"),
        ("Wie ändere ich meine Lieferadresse?", "neutral"),
        ("This is the third time I write! Your service is a joke, I want my money back NOW.", "negative"),
    ],
)
def test_clear_cases(analyser: SentimentAnalyser, registry: ModelRegistry, text: str, label: str) -> None:
    [(predicted, score, confidence)] = analyser.score(registry.encoder.encode_queries([text]))
    assert predicted == label
    assert -1 <= score <= 1 and 0 < confidence <= 1
    assert label == "neutral" or (score < 0) == (label == "negative")


def test_shipped_head_records_its_provenance(registry: ModelRegistry) -> None:
    meta = registry.sentiment_head.meta
    assert vector_space(meta.encoder_id) == vector_space(registry.encoder.id)
    assert meta.metrics["umsab-en_accuracy"] > 0.55
    assert meta.metrics["requests-banking77_negative_rate"] <= 0.10


def test_trend() -> None:
    assert trend_of([0.6, -0.5]) == "worsening"
    assert trend_of([-0.6, 0.4]) == "improving"
    assert trend_of([0.1, 0.2]) == "stable"
    assert trend_of([0.1]) is None


@pytest.mark.parametrize(
    ("language", "text", "label"),
    [
        ("it", "Servizio pessimo, nessuno mi risponde da settimane. Sono deluso.", "negative"),
        ("it", "Grazie mille, tutto perfetto, siete fantastici!", "positive"),
        ("it", "Come posso cambiare il mio indirizzo di consegna?", "neutral"),
        ("pt", "Muito obrigado, tudo perfeito, vocês são ótimos!", "positive"),
        ("pt", "Como altero minha senha?", "neutral"),
        ("nl", "Slechte service, niemand antwoordt al weken. Ik ben teleurgesteld.", "negative"),
    ],
)
def test_lexicon_languages(
    analyser: SentimentAnalyser, registry: ModelRegistry, language: str, text: str, label: str
) -> None:
    """Languages the head was not trained on read with their shipped lexicon, through the shipped fusion."""
    embedding = registry.encoder.encode_queries([text])
    [(alone_label, alone, _)] = analyser.score(embedding)
    [(fused_label, fused, _)] = analyser.score(embedding, [text], [language])
    assert fused_label == label
    positive, negative = registry.sentiment_lexicons[language].masses(text)
    # The lexicon only pushes the way its words point; no word found, no change.
    if positive == negative == 0:
        assert fused == alone and fused_label == alone_label
    elif negative == 0:
        assert fused > alone
    elif positive == 0:
        assert fused < alone


def test_head_languages_and_unknown_languages_keep_the_head(
    analyser: SentimentAnalyser, registry: ModelRegistry
) -> None:
    """The fusion is off where the head was trained (it is as good or better alone there) and where no lexicon
    exists (Croatian's only list is under the ODbL): the head's own answer."""
    fusion = registry.sentiment_fusion
    assert fusion is not None and {"en", "de", "es", "fr"} <= fusion.head_languages
    for language, text in (
        ("en", "This is terrible, I am so disappointed."),
        ("hr", "Užasna usluga, nitko ne odgovara!"),
    ):
        embedding = registry.encoder.encode_queries([text])
        assert analyser.score(embedding, [text], [language]) == analyser.score(embedding)


def test_pipeline_reads_the_ticket_language(analyser: SentimentAnalyser, registry: ModelRegistry) -> None:
    """``analyse`` fuses the ticket and its earlier messages with the ticket's language."""
    text, earlier = "Grazie mille, tutto perfetto!", "Servizio pessimo, sono deluso."
    vectors = registry.encoder.encode_queries([text, earlier])
    [result] = analyser.analyse(vectors[:1], [vectors[1:]], [text], [[earlier]], ["it"])
    [(_, score, _)] = analyser.score(vectors[:1], [text], ["it"])
    [(_, past, _)] = analyser.score(vectors[1:], [earlier], ["it"])
    assert result.history == (past, score) and result.trend == "improving"


def test_lexicon_negation_and_folding(registry: ModelRegistry) -> None:
    italian, portuguese = registry.sentiment_lexicons["it"], registry.sentiment_lexicons["pt"]
    positive, negative = italian.masses("Il prodotto è buono.")
    assert positive > 0 and negative == 0
    positive, negative = italian.masses("Il prodotto non è buono.")
    assert positive == 0 and negative > 0
    # LeIA writes its words without accents: "horrível" is found as "horrivel".
    assert portuguese.folded and portuguese.masses("Atendimento horrível")[1] > 0


def test_shipped_lexicons_state_their_sources(registry: ModelRegistry) -> None:
    assert set(registry.sentiment_lexicons) == {"it", "nl", "pt"}
    readme = (LEXICON_DIR / "README.md").read_text(encoding="utf-8")
    for language, lexicon in registry.sentiment_lexicons.items():
        data = json.loads((LEXICON_DIR / f"{language}.json").read_text(encoding="utf-8"))
        assert data["sources"] and f"`{language}.json`" in readme
        assert lexicon.valence and all(-1 <= v <= 1 for v in lexicon.valence.values())
