from engine.draft.composer import DraftComposer, DraftRequest, answer_excerpt
from engine.translate import NoTranslator
from engine.types import ArticleHit, SentimentResult, Span


def hit(language: str = "en", similarity: float = 0.9, confidence: float = 0.9) -> ArticleHit:
    return ArticleHit(
        id=f"delivery-where-is-my-order{'' if language == 'en' else '-' + language}",
        title="Where is my order?",
        language=language,
        section="Track your parcel",
        anchor="track-your-parcel",
        snippet="...",
        body="Open **Orders** to see tracking.\n\n1. Tap the order.\n2. Tap Track.",
        score=similarity,
        similarity=similarity,
        answer_confidence=confidence,
    )


def compose(**kw: object) -> object:
    base: dict[str, object] = {
        "language": "en",
        "customer_name": "Ana",
        "sentiment": SentimentResult("negative", -0.7, 0.9),
        "entities": (Span("ORDER_NUMBER", "12345", 0, 5),),
        "articles": (hit(),),
        "agent_name": "The Team",
        "url_template": "https://help.example/{id}#{anchor}",
    }
    base.update(kw)
    composer = DraftComposer(NoTranslator(), answer_threshold=0.5)
    return composer.compose(DraftRequest(**base))  # type: ignore[arg-type]


def test_draft_is_personal_grounded_and_cited() -> None:
    draft = compose()
    assert draft.text.startswith("Hi Ana,")
    assert "sorry" in draft.text and "order 12345" in draft.text
    assert "Open Orders to see tracking." in draft.text and "**" not in draft.text
    assert "https://help.example/delivery-where-is-my-order#track-your-parcel" in draft.text
    assert draft.text.rstrip().endswith("The Team")
    assert draft.citations == ("delivery-where-is-my-order#track-your-parcel",)
    assert draft.language == "en" and not draft.needs_translation and draft.tone == "negative"


def test_tone_follows_sentiment() -> None:
    assert "Thank you for your kind message" in compose(sentiment=SentimentResult("positive", 0.8, 0.9)).text


def test_draft_in_customers_language_when_the_article_exists() -> None:
    draft = compose(language="hr", articles=(hit("hr"),))
    assert draft.language == "hr" and draft.text.startswith("Poštovani/a Ana,") and not draft.needs_translation


def test_english_article_for_a_croatian_customer_needs_translation() -> None:
    draft = compose(language="hr", articles=(hit("en"),))
    assert draft.language == "en" and draft.needs_translation


def test_no_confident_article_gives_a_holding_reply_without_citations() -> None:
    draft = compose(articles=(hit(similarity=0.95, confidence=0.2),))
    assert draft.citations == () and "looking into this personally" in draft.text
    assert "Open Orders" not in draft.text


def test_a_confident_article_is_quoted_whatever_its_raw_similarity() -> None:
    assert compose(articles=(hit(similarity=0.78, confidence=0.7),)).citations


def test_only_the_top_article_is_quoted() -> None:
    # The confidence is calibrated for the top hit; a lower hit is not quoted in its place.
    draft = compose(articles=(hit(confidence=0.3), hit("hr", confidence=0.9)))
    assert draft.citations == ()


def test_excerpt_keeps_whole_blocks() -> None:
    body = "First paragraph.\n\n- a\n- b\n\n" + "x" * 2000
    assert answer_excerpt(body, limit=100) == "First paragraph.\n\n- a\n- b"


def test_a_withheld_answer_is_never_quoted() -> None:
    # The routing policy withholds answers for out-of-scope and risky tickets, however well an article matched.
    draft = compose(articles=(hit(confidence=0.99),), may_quote=False)
    assert draft.citations == ()
    assert "Track" not in draft.text and "help.example" not in draft.text
