"""Pipeline wiring: one encoder pass, and a failing stage degrades to a handoff instead of an error."""

from __future__ import annotations

import numpy as np
import pytest

from engine.pipeline import Pipeline
from engine.types import Message, Ticket

pytestmark = pytest.mark.slow


def test_one_encoder_call_per_batch(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = pipeline.registry.encoder.encode_queries

    def counting(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        return real(texts)

    monkeypatch.setattr(pipeline.registry.encoder, "encode_queries", counting)
    tickets = [
        Ticket(text="My bulb will not pair with the hub", messages=(Message("hello, first message"),)),
        Ticket(text="Ich möchte mein Konto löschen"),
    ]
    results = pipeline.run(tickets, ["a", "b"])
    assert calls == [3]
    assert [r.ticket_id for r in results] == ["a", "b"]
    assert all(r.sentiment and r.topic and r.urgency for r in results)


def test_a_failing_stage_is_reported_and_handed_off(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("index file unreadable")

    monkeypatch.setattr(pipeline.knowledge_bases.retriever(), "run", broken)
    [result] = pipeline.run([Ticket(text="Where is my parcel? It has been two weeks.")], ["x"])
    assert result.failed_stages == ("retrieve",)
    assert result.handoff.required and "stage_failed:retrieve" in result.handoff.reasons
    assert result.topic is not None and result.language.code == "en"
    assert result.articles == ()
