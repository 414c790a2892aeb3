"""E-mail formulae come out of what the models read, in the served languages; the request itself never does."""

import pytest

from engine.normalise import Normaliser
from engine.normalise.email_noise import strip_email_noise
from engine.types import Ticket


@pytest.mark.parametrize(
    ("body", "left"),
    [
        (
            "Dear Customer Support Team,\n\nI am writing to report a billing error on invoice 123.\n\n"
            "Thank you for your help.\n\nBest regards,\n<name>\n<tel_num>",
            "I am writing to report a billing error on invoice 123.",
        ),
        (
            "Sehr geehrte Damen und Herren, ich kann mich nicht anmelden. Bitte helfen Sie mir. "
            "Ich danke Ihnen im Voraus für Ihre Unterstützung. Mit freundlichen Grüßen",
            "ich kann mich nicht anmelden. Bitte helfen Sie mir.",
        ),
        (
            "Cher Équipe de Support Client, J'espère que ce message vous trouve bien. Ma facture est fausse. "
            "Cordialement, Jean Dupont",
            "Ma facture est fausse.",
        ),
        ("Hola, ¿dónde está mi pedido 12345? Gracias de antemano. Saludos", "¿dónde está mi pedido 12345?"),
        ("Poštovani, narudžba 12345 nije stigla. Lijep pozdrav, Ivan", "narudžba 12345 nije stigla."),
        ("Gentile assistenza,\nla fattura è sbagliata.\nCordiali saluti\nMario Rossi", "la fattura è sbagliata."),
        ("Geachte heer,\nmijn pakket is niet aangekomen.\nMet vriendelijke groet,\nJan", "mijn pakket is niet aangekomen."),
        (
            "Hello,\nmy hub is offline.\n\nThis e-mail and any attachments are confidential and intended solely "
            "for the addressee. If you received it in error, delete it.",
            "my hub is offline.",
        ),
        (
            "Seeking information on digital strategies for brand growth. "
            "Thank you, and I look forward to hearing from you soon.",
            "Seeking information on digital strategies for brand growth.",
        ),
    ],
)
def test_greetings_courtesies_signoffs_and_footers_go(body: str, left: str) -> None:
    assert strip_email_noise(body) == left


@pytest.mark.parametrize(
    ("body", "left"),
    [
        ("Thanks!", "Thanks!"),  # all there is: its own content
        (
            "Thanks for the quick reply. However the issue persists and the app still crashes when I open it.",
            "Thanks for the quick reply. However the issue persists and the app still crashes when I open it.",
        ),
        (
            "Hi, the regards field in my profile is empty and I cannot save it.",
            "the regards field in my profile is empty and I cannot save it.",
        ),
        (
            "Hello Support Team, my daughter says thanks for the replacement, but it crashes again since Monday.",
            "my daughter says thanks for the replacement, but it crashes again since Monday.",
        ),
    ],
)
def test_the_request_stays(body: str, left: str) -> None:
    assert strip_email_noise(body) == left


def test_the_pipeline_reads_the_request_and_the_switch_turns_it_off() -> None:
    ticket = Ticket(text="Dear team,\nwhere is my order?\nKind regards,\nAna", subject="Delivery")
    assert Normaliser.normalise(ticket).text == "Delivery\nwhere is my order?"
    assert Normaliser.normalise(ticket, strip_noise=False).text.endswith("Kind regards,\nAna")
