"""Agents' corrections as training examples.

A ticket an agent relabelled is exactly the kind of ticket the heads get wrong,
so retraining on it is the cheapest way to stop repeating the mistake. Only the
newest correction of each label counts: agents change their minds, and the last
word is the one the helpdesk acted on. A correction whose text is already in
the labelled file replaces that row's label rather than adding a contradicting
copy of it.

Feedback is checked against the taxonomy when it is given, but the taxonomy
moves on: a label that the labelled file no longer uses (an older taxonomy's,
or one written into the table by hand) would become a class of a handful of
examples, and a ticket with no text teaches nothing. Such corrections are left
out and named, so a bad row never stops a training run.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from engine.classify import HEAD_NAMES
from engine.store.feedback import FeedbackRecord
from engine.training.data import LabelledTickets, join_subject


@dataclass(frozen=True)
class Correction:
    """The corrected labels of one ticket (head name -> label), newest per head."""

    ticket_id: str
    text: str
    labels: dict[str, str]


@dataclass(frozen=True)
class FeedbackMerge:
    data: LabelledTickets
    added: int
    relabelled: int
    skipped: list[str]


def latest_corrections(records: Iterable[FeedbackRecord]) -> list[Correction]:
    """Per ticket and head, the newest corrected label; ``records`` come oldest first.

    A later feedback that corrects only the urgency keeps an earlier topic
    correction of the same ticket: it did not disagree with it.
    """
    labels: dict[str, dict[str, str]] = {}
    texts: dict[str, str] = {}
    for record in records:
        fb = record.feedback
        for head in HEAD_NAMES:
            value = getattr(fb, head)
            if value:
                labels.setdefault(fb.ticket_id, {})[head] = value
                texts[fb.ticket_id] = join_subject(record.subject, record.text)
    return [Correction(tid, texts[tid], dict(heads)) for tid, heads in labels.items()]


def merge_corrections(
    data: LabelledTickets, corrections: Iterable[Correction], heads: dict[str, str]
) -> FeedbackMerge:
    """Add the corrections for the heads being trained (head name -> column of ``data``).

    A corrected text already in ``data`` gets the corrected label in place;
    others are appended, with no label for heads the agent did not correct.
    Corrections of heads not being trained are ignored. A label ``data`` does
    not use for that head, and a ticket whose text is blank, are skipped and
    named in ``skipped``.
    """
    texts = list(data.texts)
    columns = {name: list(values) for name, values in data.columns.items()}
    taxonomy = {head: {label for label in columns[column] if label} for head, column in heads.items()}
    skipped: list[str] = []
    rows: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        rows.setdefault(text, []).append(i)
    added = relabelled = 0
    for correction in corrections:
        labels = {}
        for head, label in correction.labels.items():
            if head not in heads:
                continue
            if label in taxonomy[head]:
                labels[heads[head]] = label
            else:
                skipped.append(f"ticket {correction.ticket_id}: {head} {label!r} is not a label of the training data")
        if labels and not correction.text.strip():
            skipped.append(f"ticket {correction.ticket_id}: its text is blank")
            continue
        if not labels:
            continue
        if correction.text in rows:
            for i in rows[correction.text]:
                for column, label in labels.items():
                    columns[column][i] = label
            relabelled += 1
            continue
        rows[correction.text] = [len(texts)]
        texts.append(correction.text)
        for column, values in columns.items():
            values.append(labels.get(column))
        added += 1
    return FeedbackMerge(LabelledTickets(texts=texts, columns=columns), added, relabelled, skipped)
