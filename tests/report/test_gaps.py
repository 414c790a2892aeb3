"""The KB-gap report: unanswered tickets grouped by what they ask, largest group first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.models.registry import ModelRegistry
from engine.report.gaps import MIN_TICKETS, PROFILE_ARTICLES, LoggedTicket, SectionVectors, find_gaps, render_html
from engine.retrieve.index import KBIndex
from engine.store import TicketStore
from tests.conftest import require_datasets

pytestmark = pytest.mark.slow

GIFT_CARDS = [
    "Can I buy a gift card for my friend?",
    "Do you sell gift cards?",
    "I want to buy a gift card as a present",
    "Where can I purchase a gift card?",
]
JOBS = ["Are you hiring? I would like to apply for a job.", "Where can I send my CV for a job application?"]
ANSWERED = ["Where is my order? It has not arrived.", "My parcel has not arrived yet"]
LONE = "What is the capital of Mongolia?"


def logged(i: int, text: str, confidence: float, subject: str | None = None) -> LoggedTicket:
    payload = {"text": text, **({"subject": subject} if subject else {})}
    result = {
        "kb": "default",
        "answer_confidence": confidence,
        "language": {"code": "en"},
        "topic": {"label": "other"},
        "articles": [{"id": "delivery-where-is-my-order", "answer_confidence": confidence}],
    }
    return LoggedTicket(f"t{i}", f"2026-11-{10 + i:02d}T10:00:00+00:00", payload, result)


@pytest.fixture(scope="module")
def tickets() -> list[LoggedTicket]:
    texts = [(t, 0.05) for t in GIFT_CARDS] + [(t, 0.1) for t in JOBS] + [(t, 0.93) for t in ANSWERED] + [(LONE, 0.02)]
    return [logged(i, text, confidence) for i, (text, confidence) in enumerate(texts)]


def test_unanswered_tickets_are_grouped_by_what_they_ask(
    tickets: list[LoggedTicket], ready_registry: ModelRegistry
) -> None:
    report = find_gaps(tickets, ready_registry.encoder.encode_queries, threshold=0.5)
    assert report.tickets_read == len(tickets) and report.unanswered == len(tickets) - len(ANSWERED)
    by_text = {t.id: t.payload["text"] for t in tickets}
    groups = [{by_text[i] for i in gap.ticket_ids} for gap in report.gaps]
    assert groups[0] <= set(GIFT_CARDS) and len(groups[0]) >= 3  # the largest gap first
    assert [gap.score for gap in report.gaps] == sorted((gap.score for gap in report.gaps), reverse=True)
    assert all(group <= set(GIFT_CARDS) or group <= set(JOBS) for group in groups)  # no gap mixes two questions
    reported = set().union(*groups)
    assert not reported & set(ANSWERED)  # answered tickets are no gap
    assert LONE not in reported  # one ticket alone is below min_tickets
    top = report.gaps[0]
    assert top.suggested_title in GIFT_CARDS and "gift" in top.keywords
    assert top.closest_article == "delivery-where-is-my-order" and top.best_confidence == 0.05
    html = render_html(report)
    assert top.suggested_title.replace("?", "") in html.replace("?", "") and "<table>" in html


def test_subjects_no_article_covers_stay_apart_beside_the_shipped_kb(
    tickets: list[LoggedTicket], ready_registry: ModelRegistry
) -> None:
    """Over the shipped KB the second stage compares KB profiles: questions far from every article (gift cards,
    jobs) have little profile to share, and must not merge on it."""
    index = KBIndex.current(ready_registry.settings.index_dir, ready_registry.encoder.id, lexical=False)
    sections = SectionVectors([c.article_id for c in index.chunks], index.vectors(list(range(len(index.chunks)))))
    assert len(set(sections.article_ids)) >= PROFILE_ARTICLES  # the profiles are in play
    report = find_gaps(tickets, ready_registry.encoder.encode_queries, threshold=0.5, sections=sections)
    by_text = {t.id: t.payload["text"] for t in tickets}
    groups = [{by_text[i] for i in gap.ticket_ids} for gap in report.gaps + report.answered_elsewhere]
    assert any(len(group & set(GIFT_CARDS)) >= 3 for group in groups)
    assert all(group <= set(GIFT_CARDS) or group <= set(JOBS) for group in groups)


def test_removing_xquad_articles_yields_gaps_that_point_at_them() -> None:
    """eval/gap_removal.py's held-out sample, end to end (product retriever, product gap code, real models): a
    guard that the figures quoted in docs/results.md hold, with some slack for other encoders' rounding."""
    require_datasets()
    from rich.console import Console

    from eval.gap_removal import run

    figures = run(22, Console(quiet=True))
    assert figures["removed_found_top20"] >= 0.6  # 0.75 measured; 0.65 and 0.7 with texts encoded in batches
    assert figures["clusters_on_present"] <= 0.25 and figures["clusters_on_present_top20"] <= 0.15
    assert figures["one_cluster_per_removed"] >= 0.3


def test_only_the_most_recent_unanswered_tickets_are_grouped(
    tickets: list[LoggedTicket], ready_registry: ModelRegistry
) -> None:
    report = find_gaps(tickets, ready_registry.encoder.encode_queries, threshold=0.5, min_tickets=1, max_tickets=3)
    assert (report.unanswered, report.clustered) == (len(tickets) - len(ANSWERED), 3)
    grouped = {i for gap in report.gaps for i in gap.ticket_ids}
    assert grouped == {t.id for t in tickets if t.payload["text"] in {JOBS[1], LONE, JOBS[0]}}


def test_a_subject_line_is_the_suggested_title(ready_registry: ModelRegistry) -> None:
    tickets = [logged(i, text, 0.1, subject="Gift cards?" if i == 0 else None) for i, text in enumerate(GIFT_CARDS)]
    report = find_gaps(tickets, ready_registry.encoder.encode_queries, threshold=0.5, min_tickets=1)
    assert "Gift cards?" in [gap.suggested_title for gap in report.gaps] or any(
        "Gift cards?" in gap.examples for gap in report.gaps
    )


def test_sift_gaps_reads_the_ticket_log_and_writes_the_report(
    ready_registry: ModelRegistry, tmp_path: Path
) -> None:
    store = TicketStore(ready_registry.settings.database_path)
    try:
        ids = store.accept([{"text": t} for t in GIFT_CARDS])
        store.complete([(i, logged(n, t, 0.04).result) for n, (i, t) in enumerate(zip(ids, GIFT_CARDS, strict=True))])
    finally:
        store.close()
    out = tmp_path / "gaps.json"
    result = CliRunner().invoke(app, ["gaps", "--out", str(out), "--min-tickets", "3"])
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    # Reported as a gap, or as answered elsewhere when the session's log already holds answered tickets near it
    # (the suite triages many, and other tests' tickets may join the group): either way the command read these
    # tickets from the log.
    listed = report["gaps"] + report["answered_elsewhere"]
    assert any(len(set(ids) & set(gap["ticket_ids"])) >= 3 for gap in listed)
    html = tmp_path / "gaps.html"
    assert CliRunner().invoke(app, ["gaps", "--out", str(html)]).exit_code == 0
    empty = CliRunner().invoke(app, ["gaps", "--since", "2999-01-01"])
    assert empty.exit_code == 0 and f"no group of {MIN_TICKETS} or more" in empty.output
    assert html.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_sift_gaps_refuses_a_bad_date_with_exit_2() -> None:
    result = CliRunner().invoke(app, ["gaps", "--since", "last week"])
    assert result.exit_code == 2 and "--since" in result.output


def test_sift_gaps_reads_imported_tickets_and_keeps_no_follow_up_state(
    ready_registry: ModelRegistry, tmp_path: Path
) -> None:
    data = tmp_path / "tickets.csv"
    data.write_text("body,when\n" + "".join(f'"{t}",2026-11-{10 + i:02d}\n' for i, t in enumerate(GIFT_CARDS)))
    out = tmp_path / "imported.json"
    args = ["gaps", "--from", str(data), "--text-column", "body", "--date-column", "when", "--out", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["tickets_read"] == len(GIFT_CARDS)
    for gap in report["gaps"] + report["answered_elsewhere"]:
        assert set(gap["trend"]["weeks"]) <= {"2026-11-09", "2026-11-16"} and gap["outline"]
    state = ready_registry.settings.data_dir / "reports" / "gaps-default.json"
    before = state.read_bytes() if state.exists() else None
    assert CliRunner().invoke(app, args).exit_code == 0
    assert (state.read_bytes() if state.exists() else None) == before  # imported files leave the log's state alone
    missing = CliRunner().invoke(app, ["gaps", "--from", str(data), "--text-column", "nope"])
    assert missing.exit_code != 0 and "nope" in missing.output
