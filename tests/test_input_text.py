"""Strings that cannot be stored are refused naming the field; stray control characters are removed."""

from __future__ import annotations

import pytest

from engine.errors import InvalidInput
from engine.input_text import clean_fields, clean_strings
from engine.types import Message, Ticket


def ticket(payload: dict) -> Ticket:
    return Ticket(**{**payload, "messages": tuple(Message(**m) for m in payload.get("messages", ()))})


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"text": "hello \ud800 order"}, "text"),
        ({"text": "ok", "subject": "\udfff"}, "subject"),
        ({"text": "ok", "customer_name": "Ana\ud800"}, "customer_name"),
        ({"text": "ok", "locale": "hr\ud800"}, "locale"),
        ({"text": "ok", "kb": "\ud800"}, "kb"),
        ({"text": "ok", "messages": [{"text": "fine"}, {"text": "bad \ud800"}]}, "messages.1.text"),
        ({"text": "ok", "metadata": {"foo": "bad \ud800"}}, "metadata.foo"),
        ({"text": "ok", "metadata": {"foo": {"bar": ["x", "\ud800"]}}}, "metadata.foo.bar.1"),
        ({"text": "ok", "metadata": {"k\ud800": "v"}}, "metadata.k\\ud800"),
        ({"text": "a NUL \x00 here"}, "text"),
    ],
)
def test_unstorable_strings_are_refused_naming_the_field(payload: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_fields(ticket(payload), "")
    assert refused.value.field == field
    assert refused.value.field.encode("utf-8")  # the name itself can be sent back in a JSON response


def test_batch_fields_carry_the_ticket_index() -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_fields(Ticket(text="\ud800"), "tickets.3")
    assert refused.value.field == "tickets.3.text"


def test_control_characters_are_removed_tabs_and_newlines_kept() -> None:
    cleaned = clean_strings({"text": "a\x07b\tc\nd\r\ne\x1bf\x7fg\x85h", "n": 3}, "")
    assert cleaned == {"text": "ab\tc\nd\r\nefgh", "n": 3}


def test_a_tickets_fields_are_cleaned_messages_and_metadata_too() -> None:
    dirty = Ticket(text="a\x07b", messages=(Message("c\x1bd"),), metadata={"k\x7f": ["e\x85f"]})
    assert Ticket(**clean_fields(dirty, "")) == Ticket(text="ab", messages=(Message("cd"),), metadata={"k": ["ef"]})
