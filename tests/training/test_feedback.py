"""Agents' corrections become training rows: newest per ticket and head, relabelling rather than contradicting."""

from __future__ import annotations

from pathlib import Path

from engine.store import Feedback, FeedbackStore, TicketStore
from engine.training.data import LabelledTickets
from engine.training.feedback import latest_corrections, merge_corrections


def store_with_tickets(tmp_path: Path, *payloads: dict) -> tuple[FeedbackStore, list[str]]:
    db = tmp_path / "sift.db"
    ids = TicketStore(db).accept(list(payloads))
    return FeedbackStore(db), ids


def test_latest_correction_per_ticket_and_head_wins(tmp_path: Path) -> None:
    store, (hub, refund, praise) = store_with_tickets(
        tmp_path,
        {"text": "Hub offline again", "subject": "Hub"},
        {"text": "Where is my refund?"},
        {"text": "Great service, thanks"},
    )
    store.record(Feedback(ticket_id=hub, topic="delivery", urgency="low"))
    store.record(Feedback(ticket_id=refund, urgency="high"))
    store.record(Feedback(ticket_id=hub, topic="technical"))  # changes the topic, keeps the urgency
    store.record(Feedback(ticket_id=praise, draft_helped=True))  # a rating, not a correction
    store.record(Feedback(ticket_id=refund, urgency="urgent"))
    corrections = {c.ticket_id: c for c in latest_corrections(store.records())}
    assert set(corrections) == {hub, refund}
    assert corrections[hub].text == "Hub offline again"  # as the service reads it: the subject repeats the text
    assert corrections[hub].labels == {"topic": "technical", "urgency": "low"}
    assert corrections[refund].labels == {"urgency": "urgent"}


def test_merge_appends_new_texts_and_relabels_known_ones(tmp_path: Path) -> None:
    store, (known, new, urgency_only) = store_with_tickets(
        tmp_path, {"text": "Refund please"}, {"text": "Camera shows someone watching"}, {"text": "Bulb flickers"}
    )
    store.record(Feedback(ticket_id=known, topic="returns"))
    store.record(Feedback(ticket_id=new, topic="privacy", urgency="urgent"))
    store.record(Feedback(ticket_id=urgency_only, urgency="low"))
    data = LabelledTickets(
        texts=["Refund please", "Hub offline"],
        columns={"topic": ["billing", "technical"], "urgency": ["normal", None]},
    )
    corrections = latest_corrections(store.records())

    merged = merge_corrections(data, corrections, {"topic": "topic"})
    assert (merged.added, merged.relabelled) == (1, 1)
    assert merged.data.texts == ["Refund please", "Hub offline", "Camera shows someone watching"]
    assert merged.data.columns["topic"] == ["returns", "technical", "privacy"]
    assert merged.data.columns["urgency"] == ["normal", None, None]  # not trained: untouched, no label added
    assert data.columns["topic"] == ["billing", "technical"]  # the input is not mutated

    both = merge_corrections(data, corrections, {"topic": "topic", "urgency": "urgency"})
    assert (both.added, both.relabelled) == (2, 1)
    assert both.data.labelled("urgency") == (
        ["Refund please", "Camera shows someone watching", "Bulb flickers"], ["normal", "urgent", "low"]
    )


def test_nothing_to_merge_leaves_the_data_as_it_was(tmp_path: Path) -> None:
    store, _ = store_with_tickets(tmp_path, {"text": "unused"})
    data = LabelledTickets(texts=["a"], columns={"cat": ["x"]})
    merged = merge_corrections(data, latest_corrections(store.records()), {"topic": "cat"})
    assert (merged.added, merged.relabelled) == (0, 0)
    assert merged.data == data
