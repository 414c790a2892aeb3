from engine.privacy.pii import find_pii, redact


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


def test_security_codes_passwords_and_national_ids() -> None:
    text = "CVV 123 and CVC: 9876. My password is Hunter2! Passwort: Sommer2024, lozinka je Zagreb#99."
    assert labels(text) == [
        ("CARD_SECURITY_CODE", "123"), ("CARD_SECURITY_CODE", "9876"), ("PASSWORD", "Hunter2"),
        ("PASSWORD", "Sommer2024"), ("PASSWORD", "Zagreb#99"),
    ]
    assert labels("OIB: 69435151530, DNI 12345678Z") == [("NATIONAL_ID", "69435151530"), ("NATIONAL_ID", "12345678Z")]


def test_prose_about_passwords_and_bad_checksums_are_not_pii() -> None:
    assert labels("I forgot my password. My password is not working, the pin is broken.") == []
    assert labels("OIB: 69435151531, DNI 12345678A, the code 123 is on the box") == []


def test_every_ticket_field_is_searched_and_named() -> None:
    from engine.privacy.pii import find_ticket_pii
    from engine.types import Message, Ticket

    ticket = Ticket(
        text="hello",
        subject="mail a@b.example",
        messages=(Message("fine"), Message("card 4111 1111 1111 1111", "customer")),
    )
    assert [(s.field, s.label, s.start) for s in find_ticket_pii(ticket)] == [
        ("subject", "EMAIL", 5), ("messages.1.text", "CARD_NUMBER", 5),
    ]


def test_detection_stays_linear_on_hostile_text() -> None:
    import time

    start = time.perf_counter()
    assert find_pii("a." * 10_000) == []  # the e-mail pattern retried every run from each position: ~1 s
    assert time.perf_counter() - start < 0.4
