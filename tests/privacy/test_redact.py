"""What the ticket log keeps of a ticket: PII masked in every field, the last card digits only under the setting."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.privacy.keys import customer_key, data_key
from engine.privacy.redact import mask_spans, stored_payload, stored_result
from engine.types import (
    Automations,
    Draft,
    Gist,
    Handoff,
    LanguageResult,
    MacroSuggestion,
    Message,
    Prediction,
    Route,
    Span,
    Ticket,
    TriageResult,
)

CARD = "4111 1111 1111 1111"
IBAN = "DE89 3704 0044 0532 0130 00"


def test_every_free_text_field_is_masked() -> None:
    ticket = Ticket(
        text=f"Card {CARD}, CVV 123, write to ana.kovac@example.com",
        subject=f"Refund to {IBAN}",
        customer_name="Ana Kovač",
        customer_id="cust-42",
        messages=(Message("my password is Hunter2!", "customer"),),
        metadata={"phone": "+385 91 234 5678", "nested": ["Kovač called", {"mail": "x@example.org"}]},
    )
    stored = stored_payload(ticket, keep_last_digits=4)
    flat = repr(stored)
    for secret in (CARD, "123,", "ana.kovac@example.com", IBAN, "Hunter2", "+385 91 234 5678", "x@example.org",
                   "Kovač", "cust-42"):
        assert secret not in flat, secret
    assert "[CARD_NUMBER ****1111]" in stored["text"] and "[CARD_SECURITY_CODE]" in stored["text"]
    assert stored["subject"] == "Refund to [IBAN ****3000]"
    assert stored["messages"][0] == {"text": "my password is [PASSWORD]!", "author": "customer"}
    assert stored["customer_name"] == "[CUSTOMER_NAME]"
    assert list(stored) == [  # the keys the ticket log has always had: no customer_id
        "text", "subject", "channel", "customer_name", "customer_tier", "locale", "messages", "metadata", "kb",
        "timezone", "received_at",
    ]


def test_a_card_number_sent_as_a_json_number_is_masked() -> None:
    stored = stored_payload(Ticket(text="x", metadata={"card": 4111111111111111, "count": 3, "ok": True}), 4)
    assert stored["metadata"] == {"card": "[CARD_NUMBER ****1111]", "count": 3, "ok": True}


def test_no_digits_are_kept_when_the_setting_is_zero() -> None:
    assert stored_payload(Ticket(text=f"card {CARD}"), keep_last_digits=0)["text"] == "card [CARD_NUMBER]"


def test_results_mask_pii_spans_and_the_name_in_the_draft() -> None:
    result = TriageResult(
        id="t1",
        kb="default",
        language=LanguageResult("en", 0.9),
        sentiment=None,
        urgency=None,
        topic=Prediction(None, 0.0),
        entities=(Span("PERSON", "Ana", 0, 3, "model"),),
        pii=(Span("CARD_NUMBER", CARD, 5, 24, "pii-rules", field="text"),),
        articles=(),
        answer_confidence=0.0,
        draft=Draft("Hi Ana, we are on it.", "en", ()),
        route=Route("general", "en", "normal"),
        handoff=Handoff(required=True),
        macros=(MacroSuggestion("refund", "Refund", "en", 0.8, "Hi Ana, your refund is on its way."),),
        automations=Automations("Hi Ana, we will answer by Monday.", "en", datetime(2026, 12, 7, tzinfo=UTC), "UTC", False),
    )
    masked = mask_spans(result, 4)
    assert masked.pii[0].text == "[CARD_NUMBER ****1111]" and masked.pii[0].start == 5
    stored = stored_result(masked, Ticket(text="x", customer_name="Ana"), 4)
    assert stored["draft"]["text"] == "Hi [CUSTOMER_NAME], we are on it."
    assert stored["macros"][0]["text"] == "Hi [CUSTOMER_NAME], your refund is on its way."
    assert stored["automations"]["acknowledgement"] == "Hi [CUSTOMER_NAME], we will answer by Monday."
    assert stored["entities"][0]["text"] == "[CUSTOMER_NAME]"
    assert stored["pii"][0] == {
        "label": "CARD_NUMBER", "text": "[CARD_NUMBER ****1111]", "start": 5, "end": 24, "source": "pii-rules",
        "field": "text",
    }
    assert result.pii[0].text == CARD


def test_the_stored_gist_is_masked_like_the_ticket() -> None:
    gist = Gist("en", "hr", f"Ana ovdje, kartica {CARD}", f"Ana here, card {CARD}", "argos")
    result = TriageResult(
        id="t1", kb="default", language=LanguageResult("hr", 0.9), sentiment=None, urgency=None,
        topic=Prediction(None, 0.0), entities=(), pii=(), articles=(), answer_confidence=0.0, draft=None,
        route=Route("general", "en", "normal"), handoff=Handoff(required=True), gist=gist,
    )  # fmt: skip
    stored = stored_result(result, Ticket(text="x", customer_name="Ana"), 4)["gist"]
    assert stored["original"] == "[CUSTOMER_NAME] ovdje, kartica [CARD_NUMBER ****1111]"
    assert stored["text"] == "[CUSTOMER_NAME] here, card [CARD_NUMBER ****1111]"
    assert stored["translation"] == "argos" and result.gist is gist  # the response keeps the clear text


def test_customer_keys_are_keyed_and_stable(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = data_key(tmp_path / "data")
    assert key == data_key(tmp_path / "data") and len(key) == 32
    assert oct((tmp_path / "data" / "customer-id.key").stat().st_mode & 0o777) == "0o600"
    assert customer_key("cust-42", key) == customer_key(" cust-42 ", key)
    assert customer_key("cust-42", key) != customer_key("cust-42", data_key(tmp_path / "other"))
    assert "cust-42" not in customer_key("cust-42", key)
