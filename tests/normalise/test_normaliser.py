import pytest

from engine.normalise import Normaliser, answerable_text, encoder_text, has_words
from engine.types import Ticket


def test_quoted_history_and_signature_are_removed() -> None:
    body = (
        "The hub is offline again.\n\n-- \nAna Kovač\nHead of Ops\n\n"
        "On Mon, 3 Nov 2026 at 10:00, Lumio Support wrote:\n> Please restart the hub."
    )
    result = Normaliser.normalise(Ticket(text=body))
    assert result.text == "The hub is offline again."
    assert result.removed_quote and result.removed_signature


def test_german_reply_header_and_quote_markers() -> None:
    body = "Danke, es geht wieder!\n\nAm 03.11.2026 um 10:00 schrieb Lumio Support <help@lumio.example>:\n> Bitte neu starten"
    assert Normaliser.normalise(Ticket(text=body)).text == "Danke, es geht wieder!"


def test_subject_is_prefixed_unless_repeated() -> None:
    assert Normaliser.normalise(Ticket(text="It never arrived.", subject="Order 123")).text == "Order 123\nIt never arrived."
    assert Normaliser.normalise(Ticket(text="Order 123 never arrived", subject="order 123")).text == "Order 123 never arrived"


def test_a_message_that_is_only_a_quote_keeps_its_text() -> None:
    assert Normaliser.normalise(Ticket(text="> quoted only")).text == "> quoted only"


@pytest.mark.parametrize(
    ("text", "left", "words"),
    [
        ("https://lumio.example/privacy/cookies", "", False),
        ("www.lumio.example", "", False),
        ("<tel_num> 12345", "12345", False),
        ("see lumio.example/help, refund please", "see , refund please", True),
        ("Mail ana@example.com: where is order 12345?", "Mail : where is order 12345?", True),
        ("Refund?", "Refund?", True),
    ],
)
def test_links_addresses_and_numbers_are_no_question(text: str, left: str, words: bool) -> None:
    assert answerable_text(text) == left
    assert has_words(text) is words


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("Where is my order 48213?", "Where is my order?"),
        ("My order #48213 hasn't arrived yet", "My order hasn't arrived yet"),
        ("my card, order no. 48213, never came", "my card, order, never came"),
        ("Bestell-Nr. 48213 fehlt", "Bestell fehlt"),
        ("Pedido nº 48213 no ha llegado", "Pedido no ha llegado"),
        ("No. I never got it", "No. I never got it"),  # an answer, not a label
        ("I was charged €49.99 twice on 03.11.2026", "I was charged twice on"),
        ("Error 404 on Windows 10", "Error on Windows 10"),  # a small number may mean something
        ("I lost my card on 12 March 2024, help", "I lost my card on, help"),
        ("how do I top March 3rd, 2025 up my card", "how do I top up my card"),
        ("Die Karte kam am 12. März nicht an", "Die Karte kam am nicht an"),
        ("pagué dos veces el 12 de marzo de 2024", "pagué dos veces el"),
        ("May I get a refund for 2 items?", "May I get a refund for 2 items?"),  # "May" without a day is a word
        ("12345", "12345"),  # nothing else to read
    ],
)
def test_the_encoder_reads_no_identifiers(text: str, read: str) -> None:
    assert encoder_text(text) == read
