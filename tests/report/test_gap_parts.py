"""The gap report's parts on hand-made vectors: trend and ranking, outline, nearest article, follow-up, hygiene.

A stand-in encoder maps each text to the unit vector of the first theme word it contains (with a small
per-text offset, so that texts of one theme are close but not equal): fast, and exact about which texts
belong together.
"""

from __future__ import annotations

import json
import stat
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from engine.kb.articles import Article, Chunk
from engine.report import gap_followup
from engine.report.gaps import (
    MIN_TICKETS,
    PROFILE_ARTICLES,
    LoggedTicket,
    SectionVectors,
    find_gaps,
    kb_profile,
    merge,
    trend,
)
from engine.report.kb_hygiene import contradictions, duplicates, stale

THEMES = ["gift", "refund", "password", "invoice", "shipping"]
DIM = len(THEMES) + 4


def vector(text: str) -> np.ndarray:
    v = np.zeros(DIM, dtype=np.float32)
    theme = next((i for i, t in enumerate(THEMES) if t in text.lower()), None)
    if theme is not None:
        v[theme] = 1.0
    # A sub-question marker ("how", "where", "cost") moves the text a little within its theme.
    for j, marker in enumerate(("how", "where", "cost")):
        if marker in text.lower().split():
            v[len(THEMES) + j] = 0.3
    v[-1] = 0.05 * (sum(map(ord, text)) % 7)
    return v / np.linalg.norm(v)


def encode(texts: list[str]) -> np.ndarray:
    return np.stack([vector(t) for t in texts])


def logged(i: int, text: str, day: str, confidence: float = 0.05, lang: str = "en") -> LoggedTicket:
    result = {
        "kb": "default", "answer_confidence": confidence, "language": {"code": lang},
        "articles": [{"id": "other", "answer_confidence": confidence}],
    }
    return LoggedTicket(f"t{i}", f"{day}T10:00:00+00:00", {"text": text}, result)


def test_trend_counts_tickets_per_week_and_fits_their_slope() -> None:
    growing = trend(["2026-11-02T09:00:00+00:00"] + ["2026-11-16T09:00:00+00:00"] * 3, "2026-11-18T00:00:00+00:00")
    assert growing.weeks == {"2026-11-02": 1, "2026-11-09": 0, "2026-11-16": 3}
    assert growing.slope == 1.0 and growing.factor > 1
    fading = trend(["2026-11-02T09:00:00+00:00"] * 4, "2026-11-30T00:00:00+00:00")
    assert fading.slope < 0 and fading.factor == 0.25  # floored: a big old gap is not lost
    assert trend(["2026-11-02T09:00:00+00:00"] * 2, "2026-11-03T00:00:00+00:00").factor == 1.0


def test_a_growing_gap_outranks_a_larger_fading_one_and_names_its_nearest_article() -> None:
    old = [logged(i, f"gift card question {i}", "2026-10-05") for i in range(6)]
    new = [logged(10 + i, f"refund question {i}", "2026-11-16") for i in range(3)]
    new.append(logged(20, "refund question early", "2026-10-05"))
    kb = SectionVectors(["gift-cards", "refunds"], encode(["gift", "refund"]))
    report = find_gaps(old + new, encode, threshold=0.5, sections=kb)
    assert [g.tickets for g in report.gaps] == [4, 6]
    refunds, gifts = report.gaps
    assert refunds.trend.slope > 0 > gifts.trend.slope and refunds.score > gifts.score
    assert (refunds.nearest_article, gifts.nearest_article) == ("refunds", "gift-cards")
    assert 0.9 < refunds.nearest_similarity <= 1.0
    assert "centroid" not in json.dumps(report.to_json())


def test_the_outline_lists_each_distinct_question_once() -> None:
    texts = ["How do I reset my password", "how to reset password", "Where is the password page",
             "where can I change the password", "password cost"]
    tickets = [logged(i, t, "2026-11-16") for i, t in enumerate(texts)]
    # Tickets group into questions at distance_threshold, questions into one gap at merge_distance.
    (gap,) = find_gaps(tickets, encode, threshold=0.5, min_tickets=2, distance_threshold=0.05, merge_distance=0.3).gaps
    assert len(gap.outline) == 3  # how, where, cost
    assert {p.split()[0].lower() for p in gap.outline} == {"how", "where", "password"}


def test_a_subject_made_only_of_one_off_questions_is_not_reported() -> None:
    texts = ["How do I reset my password", "Where is the password page", "password cost"]
    tickets = [logged(i, t, "2026-11-16") for i, t in enumerate(texts)]
    # The three questions merge into one subject, but nobody asked any of them twice: noise, not a gap.
    cuts = {"threshold": 0.5, "distance_threshold": 0.05, "merge_distance": 0.3}
    assert find_gaps(tickets, encode, min_tickets=2, **cuts).gaps == []
    tickets.append(logged(9, "how to reset password", "2026-11-16"))
    (gap,) = find_gaps(tickets, encode, min_tickets=2, **cuts).gaps
    assert gap.tickets == 4 and len(gap.outline) == 3
    # By default a question must be asked three times: two alike is chance on a busy log.
    assert MIN_TICKETS == 3 and find_gaps(tickets, encode, **cuts).gaps == []
    tickets.append(logged(10, "How can I reset my password", "2026-11-16"))
    (gap,) = find_gaps(tickets, encode, **cuts).gaps
    assert gap.tickets == 5


def test_a_question_the_kb_answers_for_others_does_not_merge_into_a_gap() -> None:
    refund, credit = np.eye(2, dtype=np.float32)[0], np.array([0.64, 0.77], dtype=np.float32)  # 0.36 apart

    def two_questions(texts: list[str]) -> np.ndarray:
        return np.stack([refund if "refund" in t.lower() else credit / np.linalg.norm(credit) for t in texts])

    asked = [logged(i, "refund please", "2026-11-16") for i in range(2)]
    asked += [logged(2 + i, "store credit instead?", "2026-11-16") for i in range(2)]
    answered = [logged(10 + i, "refund please", "2026-11-16", confidence=0.9) for i in range(4)]
    report = find_gaps(asked + answered, two_questions, threshold=0.5, min_tickets=2, merge_distance=0.5)
    # Merged first, the refund question's answered neighbours would have sent both to "answered elsewhere".
    assert [set(g.ticket_ids) for g in report.gaps] == [{"t2", "t3"}]
    assert [set(g.ticket_ids) for g in report.answered_elsewhere] == [{"t0", "t1"}]


def test_a_kb_profile_counts_each_article_once() -> None:
    sections = SectionVectors(["long", "long", "long", "short"], np.eye(4, dtype=np.float32))
    profile = kb_profile(np.eye(4, dtype=np.float32)[[0, 3]], sections)
    assert profile.shape == (2, 2)  # one column per article
    assert np.allclose(profile, [[1 / np.sqrt(2), -1 / np.sqrt(2)], [-1 / np.sqrt(2), 1 / np.sqrt(2)]])


def test_questions_near_the_same_articles_merge_only_over_a_kb_large_enough_to_tell() -> None:
    n = PROFILE_ARTICLES + 10
    articles = np.eye(n + 3, dtype=np.float32)[:n]
    kb = SectionVectors([f"a{i}" for i in range(n)], articles)

    def near(article: int, own: int) -> np.ndarray:
        v = np.zeros(n + 3, dtype=np.float32)
        v[article], v[n + own] = 1.0, 0.42  # two questions near one article: 0.15 apart, alike profiles
        return v / np.linalg.norm(v)

    centres = np.stack([near(0, 0), near(0, 1), near(1, 2)])
    labels = merge(centres, kb)
    assert labels[0] == labels[1] != labels[2]
    # Over a few articles alike profiles are chance: the centroids alone decide, and 0.15 is too far.
    small = SectionVectors(kb.article_ids[:5], articles[:5])
    assert len(set(merge(centres, small))) == 3
    assert len(set(merge(centres, None))) == 3


def test_languages_are_counted_per_gap() -> None:
    tickets = [logged(i, f"gift card {i}", "2026-11-16", lang=lang) for i, lang in enumerate(["en", "de", "de", "hr"])]
    (gap,) = find_gaps(tickets, encode, threshold=0.5).gaps
    assert gap.languages == {"de": 2, "en": 1, "hr": 1}


def test_the_next_report_says_whether_the_new_article_answers_the_gap(tmp_path: Path) -> None:
    before = [logged(i, f"invoice copy please {i}", "2026-11-02") for i in range(3)]
    first = find_gaps(before, encode, threshold=0.5)
    state = gap_followup.state_path(tmp_path, "default")
    gap_followup.save(state, first, {"gift-cards": "2026-01-01"}, now=datetime(2026, 11, 3, tzinfo=UTC))
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert "invoice" not in state.read_text()  # centroids and dates, no ticket text
    previous = gap_followup.load(state)
    assert previous is not None and previous.clusters[0].tickets == 3

    after = [logged(10 + i, f"invoice again {i}", "2026-11-10", confidence=0.9 if i < 3 else 0.1) for i in range(4)]
    after.append(logged(20, "shipping times", "2026-11-10", confidence=0.1))
    kb = SectionVectors(["gift-cards", "invoices"], encode(["gift", "invoice"]))
    articles = {"gift-cards": "2026-01-01", "invoices": "2026-11-05"}
    (follow,) = gap_followup.follow_up(previous, before + after, encode, 0.5, kb, articles)
    assert (follow.article, follow.previous_tickets) == ("invoices", 3)
    assert (follow.tickets_since, follow.answered_since, follow.answered_share) == (4, 3, 0.75)
    # Nothing new or re-dated in the KB: nothing to follow up.
    assert gap_followup.follow_up(previous, after, encode, 0.5, kb, {"gift-cards": "2026-01-01"}) == []


def article(article_id: str, title: str, updated: str | None = "2024-01-01", translation_of: str | None = None) -> Article:
    return Article(article_id, title, "en", None, (), updated, "public", None, translation_of, "", "")


def test_near_duplicates_skip_declared_translations() -> None:
    chunks = [Chunk("gift-en", "Buying", "buying", "", 0), Chunk("gift-de", "Kaufen", "kaufen", "", 0),
              Chunk("gift-copy", "Buying", "buying", "", 0), Chunk("refunds", "Refunds", "refunds", "", 0)]
    vectors = encode(["gift a", "gift a", "gift a", "refund"])
    family = {"gift-en": "gift-en", "gift-de": "gift-en", "gift-copy": "gift-copy", "refunds": "refunds"}
    pairs = duplicates(chunks, vectors, family)
    assert {frozenset((p.first, p.second)) for p in pairs} == {
        frozenset(("gift-en", "gift-copy")), frozenset(("gift-de", "gift-copy"))
    }


def test_same_question_with_a_different_answer_is_a_possible_contradiction() -> None:
    articles = {a.id: a for a in (article("refund-a", "Refund window"), article("refund-b", "Refund window"),
                                  article("refund-c", "Refund window"))}
    chunks = [Chunk("refund-a", "Refund window", "w", "gift 30 days", 0),
              Chunk("refund-b", "Refund window", "w", "invoice 14 days", 0),
              Chunk("refund-c", "Refund window", "w", "gift 30 days", 0)]
    found = contradictions(articles, chunks, {a: a for a in articles}, encode, encode)
    assert {frozenset((p.first, p.second)) for p in found} == {
        frozenset(("refund-a", "refund-b")), frozenset(("refund-b", "refund-c"))
    }
    assert all(p.answer_similarity is not None and p.answer_similarity < 0.85 for p in found)


def test_stale_articles_are_old_and_still_suggested_or_rated_unhelpful() -> None:
    articles = [article("old-busy", "A"), article("old-quiet", "B"), article("old-disliked", "C"),
                article("new-busy", "D", updated="2026-10-01"), article("undated", "E", updated=None)]
    suggested = Counter({"old-busy": 25, "new-busy": 40, "undated": 99, "old-quiet": 2})
    ratings = [("old-disliked", False)] * 3 + [("old-disliked", True)] + [("old-quiet", False)] * 3 + [
        ("old-quiet", True)
    ] * 4
    found = stale(articles, suggested, ratings, date(2026, 11, 20))
    assert [s.article for s in found] == ["old-busy", "old-disliked"]
    assert found[1].unhelpful == 3 and found[1].rated == 4 and found[0].age_days > 365


def test_feedback_ratings_and_top_suggestions_are_read_for_the_stale_check(tmp_path: Path) -> None:
    from engine.report.gap_run import article_ratings, logged_tickets, suggested_counts
    from engine.settings import Settings
    from engine.store import Feedback, FeedbackStore, TicketStore

    settings = Settings(data_dir=tmp_path)
    store = TicketStore(settings.database)
    try:
        ids = store.accept([{"text": "where is my invoice"}, {"text": "invoice again"}])
        store.complete([(i, logged(n, "x", "2026-11-02").result) for n, i in enumerate(ids)])
    finally:
        store.close()
    feedback = FeedbackStore(settings.database)
    try:
        feedback.record(Feedback(ticket_id=ids[0], agent_id="a1", article_id="other", article_helped=False))
        feedback.record(Feedback(ticket_id=ids[1], agent_id="a1", draft_helped=True))
    finally:
        feedback.close()
    assert article_ratings(settings) == [("other", False)]
    assert suggested_counts(logged_tickets(settings, None), "default") == Counter({"other": 2})
