"""The service commits an accepted ticket before the pipeline runs, on both backends: a crash mid-pipeline
loses nothing a customer sent, and the stored customer id is the keyed hash, never the id."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from engine.privacy.keys import customer_key, data_key
from engine.service import TriageService
from engine.settings import Settings
from engine.store import FeedbackStore, TicketStore
from engine.store.db import Location
from engine.types import Ticket
from tests.store.conftest import execute


class LookingPipeline:
    """Stands in for the models: reads the ticket log from another connection, then fails."""

    knowledge_bases = SimpleNamespace(resolve=lambda name, field: None)
    policy = SimpleNamespace(repeated_contact=None)

    def __init__(self, location: Location) -> None:
        self.location = location
        self.seen: list[tuple[Any, ...]] = []

    def run(self, tickets: list[Ticket], ids: list[str], *_: Any) -> list[Any]:
        self.seen = execute(self.location, "SELECT id, status, customer_key, payload FROM tickets")
        raise RuntimeError("the encoder fell over")


def test_an_accepted_ticket_is_committed_before_the_pipeline_runs(location: Location, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    pipeline = LookingPipeline(location)
    service = TriageService(settings, pipeline, TicketStore(location), FeedbackStore(location))  # type: ignore[arg-type]
    try:
        with pytest.raises(RuntimeError, match="encoder fell over"):
            service.triage([Ticket(text="Where is order 123?", customer_id="ana@example.com")])
    finally:
        service.close()
    [(ticket_id, status, key, payload)] = pipeline.seen
    assert status == "accepted"
    assert key == customer_key("ana@example.com", data_key(settings.data_dir)) and "ana@example.com" not in payload
    stored = TicketStore(location).get(ticket_id)
    assert stored is not None and stored["status"] == "failed" and "encoder fell over" in stored["error"]
