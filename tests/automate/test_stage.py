"""The automations stage on routed tickets: target from the queue, times in the customer's zone, tags."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.automate import Automator, load_service_levels
from engine.settings import KnowledgeBase, Settings
from engine.stage import TicketState
from engine.types import LanguageResult, Prediction, Route, Span, Ticket

BERLIN = ZoneInfo("Europe/Berlin")
KB = KnowledgeBase("default", Path("kb"), Path("index"), "https://help.example/{id}#{anchor}", "Lumio Support")
# Monday 7 December 2026, 10:00 in Berlin: the office (shipped service levels) is open.
MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=BERLIN)


def routed(ticket: Ticket, queue: str, language: str = "en", urgency: str = "normal") -> TicketState:
    state = TicketState(ticket, "t", KB)
    state.language = LanguageResult(language, 0.99)
    state.topic = Prediction("delivery", 0.9)
    state.entities = (Span("ORDER_NUMBER", "12345", 0, 5),)
    state.route = Route(queue, language if language in ("en", "de", "es", "hr") else "en", "P3", urgency=urgency)
    return state


@pytest.fixture(scope="module")
def automator() -> Automator:
    stage = Automator(load_service_levels(Settings().service_levels_file), clock=lambda: MONDAY_10.astimezone(UTC))
    stage.warm_up()
    return stage


def test_an_open_desk_promises_the_queues_target(automator: Automator) -> None:
    state = routed(Ticket(text="Where is order 12345?", channel="email", customer_name="Ana Horvat"), "orders")
    automator.run([state])
    a = state.automations
    assert a is not None and not a.out_of_hours and a.out_of_hours_notice is None
    assert a.first_response_due == datetime(2026, 12, 7, 18, 0, tzinfo=BERLIN)  # 8 business hours: closing time
    assert a.timezone == "Europe/Berlin" and a.language == "en"
    assert a.acknowledgement.startswith("Hi Ana,") and "order 12345" in a.acknowledgement
    assert "Monday, December 7, 2026 at 6:00\u202fPM (Central European Standard Time)" in a.acknowledgement
    assert a.tags == ("topic:delivery", "urgency:normal", "language:en", "order", "channel:email")


def test_out_of_hours_in_the_customers_zone_and_language(automator: Automator) -> None:
    # Saturday 14:00 in Berlin, from a customer in Chicago writing German: the desk reopens Monday 08:00 Berlin,
    # which is 01:00 in Chicago; 8 business hours later it is Monday 16:00 Berlin, 09:00 Chicago.
    saturday = datetime(2026, 12, 5, 14, 0, tzinfo=BERLIN)
    ticket = Ticket(text="Wo ist meine Bestellung?", timezone="America/Chicago", received_at=saturday)
    state = routed(ticket, "orders", language="de")
    automator.run([state])
    a = state.automations
    assert a is not None and a.out_of_hours and a.timezone == "America/Chicago"
    assert a.first_response_due == datetime(2026, 12, 7, 9, 0, tzinfo=ZoneInfo("America/Chicago"))
    assert a.first_response_due.tzinfo == ZoneInfo("America/Chicago")  # shown in their zone, not only equal
    assert a.out_of_hours_notice is not None and "Montag, 7. Dezember 2026 um 01:00 Uhr" in a.out_of_hours_notice
    assert a.acknowledgement.startswith("Guten Tag,") and "out-of-hours" in a.tags


def test_a_round_the_clock_queue_is_never_out_of_hours(automator: Automator) -> None:
    sunday_night = datetime(2026, 12, 6, 23, 30, tzinfo=BERLIN)
    state = routed(Ticket(text="Someone logged into my account", received_at=sunday_night, locale="hr-HR"), "security", "hr")
    automator.run([state])
    a = state.automations
    assert a is not None and not a.out_of_hours
    assert a.first_response_due == datetime(2026, 12, 7, 0, 30, tzinfo=BERLIN)  # 1 hour, any hour
    assert a.timezone == "Europe/Zagreb" and a.language == "hr"
    assert "ponedjeljak, 7. prosinca 2026. u 00:30" in a.acknowledgement


def test_a_language_without_a_catalog_is_acknowledged_in_the_agents(automator: Automator) -> None:
    state = routed(Ticket(text="Missä tilaukseni on?", received_at=MONDAY_10), "orders", language="fi")
    automator.run([state])
    assert state.automations is not None and state.automations.language == "en"
    assert "language:fi" in state.automations.tags


def test_norwegian_as_the_detector_names_it_is_acknowledged_in_bokmal(automator: Automator) -> None:
    state = routed(Ticket(text="Hvor er bestillingen min?", received_at=MONDAY_10), "orders", language="no")
    automator.run([state])
    assert state.automations is not None and state.automations.language == "no"
    text = state.automations.acknowledgement
    assert text.startswith("Hei,\n\nTakk for meldingen din angående bestilling 12345.") and "mandag 7. desember" in text


@pytest.mark.parametrize(
    ("language", "name", "salutation", "channel", "expected"),
    [
        ("de", "Mustermann, Erika", None, "email", "Guten Tag Erika Mustermann,"),  # not "Hallo Erika" above Sie
        ("de", "Dr. Erika Mustermann", "ms", "email", "Sehr geehrte Frau Dr. Mustermann,"),
        ("de", "ana@example.com", None, "email", "Guten Tag,"),
        ("de", "Erika Mustermann", None, "chat", "Hallo Erika,"),
        ("en", "Mustermann, Erika", None, "email", "Hi Erika,"),
        ("hr", "Ivana Horvat", None, "email", "Dobar dan,"),
        ("fr", "Claire Martin", "ms", "email", "Bonjour Madame Martin,"),
    ],
)
def test_the_acknowledgement_greets_as_a_draft_in_its_language_would(
    automator: Automator, language: str, name: str, salutation: str | None, channel: str, expected: str
) -> None:
    ticket = Ticket(text="Wo ist meine Bestellung?", channel=channel, customer_name=name, customer_salutation=salutation)
    state = routed(ticket, "orders", language)
    automator.run([state])
    assert state.automations is not None and state.automations.language == language
    assert state.automations.acknowledgement.split("\n\n")[0] == expected
