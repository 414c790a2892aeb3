"""The ticket's ``timezone`` and ``received_at``: validated where the API validates a request."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from engine.types import Ticket

TICKET = TypeAdapter(Ticket)  # how the API validates a request body


@pytest.mark.parametrize("zone", ["Europe/Zagreb", "America/Argentina/Buenos_Aires", "UTC"])
def testiana_zones_are_accepted(zone: str) -> None:
    assert TICKET.validate_python({"text": "Hello", "timezone": zone}).timezone == zone


@pytest.mark.parametrize("zone", ["Europe/Zagrebb", "CET+1", "../../etc/passwd", "", "europe/zagreb"])
def test_anything_else_is_refused_naming_the_field(zone: str) -> None:
    with pytest.raises(ValidationError, match="timezone") as caught:
        TICKET.validate_python({"text": "Hello", "timezone": zone})
    assert caught.value.errors()[0]["loc"] == ("timezone",)


def test_received_at_needs_its_offset() -> None:
    ticket = TICKET.validate_python({"text": "Hello", "received_at": "2026-12-07T09:30:00+01:00"})
    assert ticket.received_at == datetime(2026, 12, 7, 9, 30, tzinfo=timezone(timedelta(hours=1)))
    with pytest.raises(ValidationError, match="received_at"):
        TICKET.validate_python({"text": "Hello", "received_at": "2026-12-07T09:30:00"})


def test_the_dataclass_refuses_them_too() -> None:
    with pytest.raises(ValueError, match="IANA"):
        Ticket(text="Hello", timezone="Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="UTC offset"):
        Ticket(text="Hello", received_at=datetime(2026, 12, 7, 9, 30))
