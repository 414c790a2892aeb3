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
        texts=["Refund please", "Hub offline", "Send a return label", "Delete my data"],
        columns={"topic": ["billing", "technical", "returns", "privacy"], "urgency": ["normal", None, "urgent", "low"]},
    )
    corrections = latest_corrections(store.records())

    merged = merge_corrections(data, corrections, {"topic": "topic"})
    assert (merged.added, merged.relabelled, merged.skipped) == (1, 1, [])
    assert merged.data.texts == [*data.texts, "Camera shows someone watching"]
    assert merged.data.columns["topic"] == ["returns", "technical", "returns", "privacy", "privacy"]
    assert merged.data.columns["urgency"] == [*data.columns["urgency"], None]  # not trained: no label added
    assert data.columns["topic"] == ["billing", "technical", "returns", "privacy"]  # the input is not mutated

    both = merge_corrections(data, corrections, {"topic": "topic", "urgency": "urgency"})
    assert (both.added, both.relabelled) == (2, 1)
    assert both.data.labelled("urgency") == (
        ["Refund please", "Send a return label", "Delete my data", "Camera shows someone watching", "Bulb flickers"],
        ["normal", "urgent", "low", "urgent", "low"],
    )


def test_labels_outside_the_training_data_and_blank_texts_are_skipped_and_named(tmp_path: Path) -> None:
    store, (old, blank, good) = store_with_tickets(
        tmp_path, {"text": "Parcel never came"}, {"text": "   "}, {"text": "Charged twice"}
    )
    store.record(Feedback(ticket_id=old, topic="shipping", urgency="high"))  # an older taxonomy's topic
    store.record(Feedback(ticket_id=blank, topic="billing"))
    store.record(Feedback(ticket_id=good, topic="billing"))
    data = LabelledTickets(texts=["Refund please"], columns={"topic": ["billing"], "urgency": ["high"]})
    merged = merge_corrections(data, latest_corrections(store.records()), {"topic": "topic", "urgency": "urgency"})
    assert merged.data.texts == ["Refund please", "Parcel never came", "Charged twice"]
    assert merged.data.columns == {"topic": ["billing", None, "billing"], "urgency": ["high", "high", None]}
    assert merged.skipped == [
        f"ticket {old}: topic 'shipping' is not a label of the training data",
        f"ticket {blank}: its text is blank",
    ]


def test_nothing_to_merge_leaves_the_data_as_it_was(tmp_path: Path) -> None:
    store, _ = store_with_tickets(tmp_path, {"text": "unused"})
    data = LabelledTickets(texts=["a"], columns={"cat": ["x"]})
    merged = merge_corrections(data, latest_corrections(store.records()), {"topic": "cat"})
    assert (merged.added, merged.relabelled) == (0, 0)
    assert merged.data == data
