from engine.entities.pii import find_pii, redact


def labels(text: str) -> list[tuple[str, str]]:
    return [(s.label, s.text) for s in find_pii(text)]


def test_finds_email_phone_card_and_iban() -> None:
    text = (
        "Write to ana.kovac@example.com or call +385 91 234 5678. "
        "Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00."
    )
    found = labels(text)
    assert ("EMAIL", "ana.kovac@example.com") in found
    assert ("PHONE", "+385 91 234 5678") in found
    assert ("CARD_NUMBER", "4111 1111 1111 1111") in found
    assert ("IBAN", "DE89 3704 0044 0532 0130 00") in found


def test_checksums_keep_order_numbers_and_bad_cards_out() -> None:
    assert labels("Order 12345 and order #LM-204881 are late") == []
    # 16 digits failing the Luhn check are not a card.
    assert not any(label == "CARD_NUMBER" for label, _ in labels("ref 4111 1111 1111 1112"))
    # An IBAN with a wrong check digit is not an IBAN.
    assert not any(label == "IBAN" for label, _ in labels("DE00 3704 0044 0532 0130 00"))


def test_redact_replaces_spans_with_labels() -> None:
    assert redact("mail me at a.b@example.org now") == "mail me at [EMAIL] now"
