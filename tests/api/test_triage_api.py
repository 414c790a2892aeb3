"""The API through TestClient (lifespan runs): the contract's fields and every bad-input case."""

from __future__ import annotations

import gc
import time

import pytest
from fastapi.testclient import TestClient

from engine.models.registry import ModelRegistry

pytestmark = pytest.mark.slow

CROATIAN = "Moja narudžba 12345 još nije stigla, a platio sam prije dva tjedna!"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("https://lumio.example/privacy/cookies", "no_question"),
        ("How do I change the payment method on my AWS account to avoid extra costs?", "out_of_scope"),
        ("Wie kann ich die Kosten unserer Azure-Subscription senken?", "out_of_scope"),
    ],
)
def test_tickets_outside_the_kb_quote_nothing(client: TestClient, text: str, reason: str) -> None:
    # Each of these once drew a quoted article at answer confidence 0.95-0.99 on shared words alone.
    body = client.post("/v1/triage", json={"text": text}).json()
    assert reason in body["handoff"]["reasons"], body["handoff"]
    assert body["handoff"]["required"]
    assert body["draft"]["citations"] == []
    assert body["answer_confidence"] == 0.0


# One question, as a customer types it into the help widget and into an e-mail. Short questions in the KB's
# own words once read as out of scope to a head trained on long tickets: triage withheld the article that the
# widget's search found for the same words.
SAME_QUESTION = [
    ("I forgot my password, how can I reset it?", "en", "account-reset-password"),
    ("Ich habe mein Passwort vergessen, wie kann ich es zurücksetzen?", "de", "account-reset-password-de"),
    ("Olvidé mi contraseña, ¿cómo puedo restablecerla?", "es", "account-reset-password-es"),
    ("Zaboravio sam lozinku, kako je mogu resetirati?", "hr", "account-reset-password-hr"),
    ("zaboravila sam lozinku", "hr", "account-reset-password-hr"),
    ("ne mogu se prijaviti", "hr", "account-reset-password-hr"),
    ("J'ai oublié mon mot de passe, comment le réinitialiser ?", "fr", None),
]


@pytest.mark.parametrize(("text", "lang", "article"), SAME_QUESTION)
def test_a_kb_question_gets_in_triage_the_article_suggest_finds(
    client: TestClient, text: str, lang: str, article: str | None
) -> None:
    suggested = client.get("/v1/articles/suggest", params={"q": text, "lang": lang}).json()["articles"]
    body = client.post("/v1/triage", json={"text": text}).json()
    assert "out_of_scope" not in body["handoff"]["reasons"], body["handoff"]
    # In scope; which topic is the head's own judgement (it reads "zaboravila sam lozinku" as delivery).
    assert body["topic"]["label"] is not None
    found = [a["id"] for a in body["articles"]]
    if article is None:  # no French version: the English original's family, among the first few
        assert "account-reset-password" in found[:3], found
        return
    assert found[0] == suggested[0]["id"] == article
    # Quoted unless a stated reason withholds it (none of these carries one).
    assert body["answer_confidence"] >= 0.5 and any(article in cited for cited in body["draft"]["citations"])


def test_a_bosnian_customer_is_answered_from_the_croatian_article(client: TestClient) -> None:
    text = "Zaboravio sam lozinku, kako je mogu resetirati?"
    suggested = client.get("/v1/articles/suggest", params={"q": text, "lang": "bs"}).json()["articles"]
    assert suggested[0]["id"] == "account-reset-password-hr"  # was the English original
    body = client.post("/v1/triage", json={"text": text, "locale": "bs-BA"}).json()
    assert body["language"]["code"] == "bs"
    assert body["articles"][0]["id"] == "account-reset-password-hr" and body["answer_confidence"] >= 0.5
    assert body["draft"]["language"] == "hr" and "draft_needs_translation" not in body["handoff"]["reasons"]


def test_croatian_delivery_ticket_is_triaged_end_to_end(client: TestClient) -> None:
    r = client.post("/v1/triage", json={"text": CROATIAN, "customer_name": "Ivan", "channel": "email"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["language"]["code"] == "hr"
    # A late order stated plainly: leaning negative, below the valence margin that would call it angry
    # (the head reads requests as neutral unless their wording is; eval/train_sentiment.py).
    assert body["sentiment"]["label"] in {"negative", "neutral"}
    assert -1 <= body["sentiment"]["score"] < 0
    assert body["topic"]["label"] == "delivery"
    assert 0 < body["topic"]["confidence"] <= 1
    assert body["urgency"]["label"] in {"low", "normal", "high", "urgent"}
    ids = [a["id"] for a in body["articles"]]
    assert any(i.startswith("delivery-where-is-my-order") for i in ids), ids
    assert len(ids) == len(set(ids)) and len(ids) <= 5
    for article in body["articles"]:
        assert {"id", "title", "language", "section", "snippet", "score", "answer_confidence", "highlights"} <= set(article)
    assert 0 <= body["answer_confidence"] <= 1
    # Gender unknown (no form of address given): the neutral Croatian greeting, not a guess from the first name.
    assert body["draft"]["text"].startswith("Dobar dan,")
    assert body["draft"]["language"] == "hr"
    # Three Croatian articles sit within 0.015 cosine of each other for this ticket, so the confidence stays low
    # (the topic prior picks the right one, but the confidence does not use the topic head): a quote only if sure.
    quoted = body["answer_confidence"] >= 0.5
    assert bool(body["draft"]["citations"]) is quoted
    assert ("no_confident_article" in body["handoff"]["reasons"]) is not quoted
    assert body["route"]["queue"] in {"orders", "escalations"}
    assert body["route"]["language"] == "hr"
    assert isinstance(body["handoff"]["required"], bool)
    assert isinstance(body["handoff"]["reasons"], list)
    assert any(e["label"] == "ORDER_NUMBER" and e["text"] == "12345" for e in body["entities"])


def test_ticket_is_persisted_with_its_result(client: TestClient) -> None:
    r = client.post("/v1/triage", json={"text": "I was charged twice for order 884211, please refund one."})
    assert r.status_code == 200
    stored = client.app.state.service.store.get(r.json()["id"])  # type: ignore[attr-defined]
    assert stored["status"] == "processed"
    assert stored["payload"]["text"].startswith("I was charged twice")
    assert stored["result"]["topic"]["label"] == r.json()["topic"]["label"]


def test_pii_forces_a_handoff_with_the_reason(client: TestClient) -> None:
    text = "Please charge my other card 4111 1111 1111 1111 for the Lumio Plus subscription instead."
    body = client.post("/v1/triage", json={"text": text}).json()
    assert any(p["label"] == "CARD_NUMBER" for p in body["pii"])
    assert body["handoff"]["required"] is True
    assert "pii_present" in body["handoff"]["reasons"]


def test_conversation_trend_is_reported(client: TestClient) -> None:
    body = client.post(
        "/v1/triage",
        json={
            "text": "This is the third time I write. Still nothing works and nobody answers. Unacceptable!",
            "messages": [
                {"text": "Hi, thanks for the quick delivery! Small question about pairing my bulb.", "author": "customer"},
                {"text": "Please try resetting the bulb.", "author": "agent"},
            ],
        },
    ).json()
    assert body["sentiment"]["trend"] == "worsening"
    assert len(body["sentiment"]["history"]) == 2


def test_batch_returns_one_result_per_ticket_in_order(client: TestClient) -> None:
    tickets = [{"text": "Mein Passwort funktioniert nicht mehr"}, {"text": "¿Cómo devuelvo un producto defectuoso?"}]
    r = client.post("/v1/triage/batch", json={"tickets": tickets})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["language"]["code"] for x in results] == ["de", "es"]


def test_suggest_finds_articles_in_the_customers_language(client: TestClient) -> None:
    r = client.get("/v1/articles/suggest", params={"q": "Wo ist meine Bestellung?", "lang": "de"})
    assert r.status_code == 200, r.text
    articles = r.json()["articles"]
    assert articles[0]["id"] == "delivery-where-is-my-order-de"


def test_suggest_states_its_answer_confidence_and_marks_matched_words(client: TestClient) -> None:
    body = client.get("/v1/articles/suggest", params={"q": "How do I cancel my Lumio Plus subscription?"}).json()
    top = body["articles"][0]
    assert body["answer_confidence"] == top["answer_confidence"] >= 0.5
    assert top["highlights"] and all(len(h) == 2 for h in top["highlights"])
    marked = [top["snippet"][a:b].lower() for a, b in top["highlights"]]
    assert "cancel" in marked and "subscription" in marked
    body = client.get("/v1/articles/suggest", params={"q": "What is the capital of Mongolia?"}).json()
    assert body["articles"] and body["answer_confidence"] < 0.5


def test_a_ticket_no_article_answers_is_handed_off_with_the_confidence(client: TestClient) -> None:
    body = client.post("/v1/triage", json={"text": "Can you recommend a good pizza recipe for tonight?"}).json()
    # Out of scope too, so the policy withholds any answer and reports 0; the article's own figure stays.
    assert body["answer_confidence"] <= body["articles"][0]["answer_confidence"] < 0.5
    assert "no_confident_article" in body["handoff"]["reasons"]
    assert body["draft"]["citations"] == []
    answered = client.post("/v1/triage", json={"text": "How do I cancel my Lumio Plus subscription?"}).json()
    assert answered["answer_confidence"] >= 0.5 and answered["draft"]["citations"]
    assert "no_confident_article" not in answered["handoff"]["reasons"]


def test_suggest_never_returns_internal_articles(client: TestClient, ready_registry: ModelRegistry) -> None:
    from engine.kb import load_kb

    internal = [a for a in load_kb(ready_registry.settings.kb_dir) if a.audience == "internal"]
    assert internal, "the shipped KB should have internal articles to test with"
    for article in internal:
        r = client.get("/v1/articles/suggest", params={"q": article.title, "limit": 50})
        assert article.id not in {a["id"] for a in r.json()["articles"]}


def test_suggest_filters_by_tag_and_article_language(client: TestClient, ready_registry: ModelRegistry) -> None:
    from engine.kb import load_kb

    tagged = {a.id for a in load_kb(ready_registry.settings.kb_dir)
              if a.audience == "public" and "security" in {t.lower() for t in a.tags}}
    assert len(tagged) >= 2
    query = "I cannot sign in to my account"
    unfiltered = {a["id"] for a in client.get("/v1/articles/suggest", params={"q": query}).json()["articles"]}
    assert not unfiltered <= tagged  # the filter has something to remove
    r = client.get("/v1/articles/suggest", params={"q": query, "tag": ["Security", "no-such-tag"]})
    assert r.status_code == 200, r.text
    assert {a["id"] for a in r.json()["articles"]} == tagged
    assert client.get("/v1/articles/suggest", params={"q": query, "tag": "no-such-tag"}).json()["articles"] == []

    croatian = "Zaboravio sam lozinku"
    hits = client.get("/v1/articles/suggest", params={"q": croatian, "lang": "hr"}).json()["articles"]
    assert {a["language"] for a in hits} > {"hr"}  # English-only articles fill the list without the filter
    hits = client.get("/v1/articles/suggest", params={"q": croatian, "article_language": "hr"}).json()["articles"]
    assert hits and {a["language"] for a in hits} == {"hr"}
    assert hits[0]["id"] == "account-reset-password-hr"


def test_suggest_refuses_a_malformed_filter_naming_it(client: TestClient) -> None:
    r = client.get("/v1/articles/suggest", params={"q": "password", "article_language": "croatian"})
    assert r.status_code == 422
    assert r.json()["error"]["field"].startswith("article_language")


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    client.post("/v1/triage", json={"text": "Where is my parcel? It has been ten days."})
    assert "sift_tickets_total" in client.get("/metrics").text


def test_start_up_leaves_the_loaded_models_out_of_full_collections(client: TestClient) -> None:
    # The models' objects are frozen once loaded, so a full collection in a request does not walk them.
    assert gc.get_freeze_count() > 100_000
    start = time.perf_counter()
    gc.collect()
    assert time.perf_counter() - start < 0.1, "a full collection still walks the models' objects"


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"text": ""}, 422, "text"),
        ({"text": "   \n\t "}, 422, "text"),
        ({}, 422, "text"),
        ({"text": 42}, 422, "text"),
        ({"text": "hello there my order", "channel": "fax"}, 422, "channel"),
        ({"text": "hello there my order", "messages": "nope"}, 422, "messages"),
        ({"text": "hello there my order", "colour": "red"}, 422, "colour"),
        ({"text": "x" * 20_001}, 422, "text"),
    ],
)
def test_bad_input_names_the_field(client: TestClient, payload: dict, status: int, field: str) -> None:
    before = client.app.state.service.store.count()  # type: ignore[attr-defined]
    r = client.post("/v1/triage", json=payload)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["field"] == field
    assert "Traceback" not in r.text
    assert client.app.state.service.store.count() == before  # type: ignore[attr-defined]


def test_invalid_json_is_a_400_naming_the_body(client: TestClient) -> None:
    r = client.post("/v1/triage", content=b'{"text": "unterminated', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["field"] == "body"


def test_non_utf8_bytes_are_refused(client: TestClient) -> None:
    r = client.post("/v1/triage", content=b'{"text": "caf\xe9 order"}', headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_encoding"


def test_oversized_body_is_a_413(client: TestClient) -> None:
    r = client.post("/v1/triage", json={"text": "a " * 600_000})
    assert r.status_code == 413
    assert r.json()["error"]["field"] == "body"


def test_batch_errors_name_the_ticket(client: TestClient) -> None:
    r = client.post("/v1/triage/batch", json={"tickets": [{"text": "fine ticket text"}, {"text": " "}]})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "tickets.1.text"
    assert client.post("/v1/triage/batch", json={"tickets": []}).json()["error"]["field"] == "tickets"


def test_suggest_refuses_a_blank_query(client: TestClient) -> None:
    r = client.get("/v1/articles/suggest", params={"q": "   "})
    assert r.status_code == 422
    assert r.json()["error"]["field"] == "q"


def test_a_customer_writing_again_about_the_same_problem_gets_a_person(client: TestClient) -> None:
    ticket = {"text": "My parcel has still not arrived, where is it?", "customer_id": "cust-repeat-77"}
    first = client.post("/v1/triage", json=ticket).json()
    assert "repeated_contact" not in first["handoff"]["reasons"]
    again = client.post("/v1/triage", json=ticket).json()
    assert again["topic"]["label"] == first["topic"]["label"]
    assert "repeated_contact" in again["handoff"]["reasons"], again["handoff"]
    assert first["id"] in again["handoff"]["details"][again["handoff"]["reasons"].index("repeated_contact")]
    other = client.post("/v1/triage", json={**ticket, "customer_id": "cust-other-78"}).json()
    assert "repeated_contact" not in other["handoff"]["reasons"]


def test_the_route_lists_its_rules_and_a_long_wait_raises_the_priority(client: TestClient) -> None:
    body = client.post("/v1/triage", json={"text": "Where is my parcel?", "received_at": "2020-01-01T09:00:00Z"}).json()
    assert "priority_by_waiting" in body["route"]["rules"]
    assert any(rule.startswith("queue_") for rule in body["route"]["rules"])
    refused = client.post("/v1/triage", json={"text": "Where is my parcel?", "received_at": "2020-01-01 09:00"})
    assert refused.status_code == 422 and "received_at" in refused.text
