"""What the console's pages show, built from a logged ticket: plain dicts and lists for the templates.

Kept apart from the routes so the rules (which messages carry which sentiment, when the gist is shown) are
testable without a browser, and the templates stay free of logic beyond loops and conditions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from engine.store.tickets import SORT_KEYS, TicketFilter

FILTERS = ("queue", "topic", "urgency", "language", "sentiment", "risk", "handoff", "status")
PAGE_SIZE = 50
EXCERPT_CHARS = 120
# A message's sentiment score in [-1, 1] is named by these bounds (the head's own label is for the ticket only).
NEGATIVE_BELOW, POSITIVE_ABOVE = -0.25, 0.25


@dataclass(frozen=True)
class QueueQuery:
    """The queue page's URL parameters, checked: unknown values are dropped rather than failing the page."""

    filters: dict[str, str]
    sort: str
    offset: int

    @classmethod
    def parse(cls, params: dict[str, str]) -> QueueQuery:
        filters = {k: params[k].strip() for k in FILTERS if params.get(k, "").strip()}
        if filters.get("handoff") not in (None, "yes", "no"):
            filters.pop("handoff")
        sort = params.get("sort", "-received_at")
        if sort.removeprefix("-") not in SORT_KEYS:
            sort = "-received_at"
        offset = int(params["offset"]) if params.get("offset", "").isdigit() else 0
        return cls(filters, sort, min(offset, 1_000_000_000))

    def where(self) -> TicketFilter:
        handoff = {"yes": True, "no": False}.get(self.filters.get("handoff", ""))
        values = {k: v for k, v in self.filters.items() if k != "handoff"}
        return TicketFilter(**values, handoff=handoff)

    def url(self, **changes: Any) -> str:
        """This query's URL with ``changes`` applied (None removes a parameter): links keep the filters."""
        params: dict[str, Any] = {**self.filters, "sort": self.sort, "offset": self.offset or None, **changes}
        clean = {k: v for k, v in params.items() if v not in (None, "") and not (k == "sort" and v == "-received_at")}
        return "/console" + (f"?{urlencode(clean)}" if clean else "")

    def sort_link(self, key: str) -> tuple[str, str | None]:
        """The header link for column ``key`` (toggling direction when it sorts now) and its aria-sort value."""
        if self.sort.removeprefix("-") != key:
            first = f"-{key}" if key in ("received_at", "urgency") else key
            return self.url(sort=first, offset=None), None
        descending = self.sort.startswith("-")
        return self.url(sort=key if descending else f"-{key}", offset=None), "descending" if descending else "ascending"


def excerpt(payload: dict[str, Any]) -> str:
    """The subject, else the start of the text, on one line."""
    text = " ".join(str(payload.get("subject") or payload.get("text") or "").split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rsplit(" ", 1)[0] + "…"


def sentiment_word(score: float) -> str:
    return "negative" if score < NEGATIVE_BELOW else "positive" if score > POSITIVE_ABOVE else "neutral"


def conversation(payload: dict[str, Any], result: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Earlier messages, then the ticket itself, each with the sentiment score the triage gave it where it gave one.

    The sentiment head scores every earlier customer message with text, then the ticket (``sentiment.history``,
    in that order); agents' messages are not scored.
    """
    sentiment = (result or {}).get("sentiment") or {}
    history = list(sentiment.get("history") or [])
    messages = [dict(m) for m in payload.get("messages") or [] if isinstance(m, dict)]
    scored = [m for m in messages if m.get("author", "customer") == "customer" and str(m.get("text") or "").strip()]
    latest = {"author": "customer", "text": str(payload.get("text") or ""), "latest": True}
    if len(history) == len(scored) + 1:
        for message, score in zip([*scored, latest], history, strict=True):
            message["score"] = float(score)
            message["sentiment"] = sentiment_word(float(score))
    elif sentiment.get("score") is not None:
        latest["score"] = float(sentiment["score"])
        latest["sentiment"] = sentiment.get("label") or sentiment_word(float(sentiment["score"]))
    return [*messages, latest]


def needs_gist(result: dict[str, Any] | None, languages: list[str]) -> bool:
    """Whether the agent does not read the ticket's language (``und`` and unknown languages count as read)."""
    code = str(((result or {}).get("language") or {}).get("code") or "").split("-")[0].lower()
    return bool(code) and code != "und" and code not in languages


def percent(value: Any) -> str:
    """A probability as a whole percentage ("87%"), or a dash."""
    return f"{round(float(value) * 100)}%" if isinstance(value, (int, float)) else "–"


def article_ratings(feedback: list[dict[str, Any]]) -> dict[str, bool]:
    """Each article's newest rating on this ticket (feedback comes newest first)."""
    ratings: dict[str, bool] = {}
    for row in feedback:
        if row.get("article_id") and row.get("article_helped") is not None:
            ratings.setdefault(row["article_id"], bool(row["article_helped"]))
    return ratings


def feedback_summary(row: dict[str, Any]) -> str:
    """One stored feedback row in words, for the ticket's history."""
    parts = []
    if row.get("topic"):
        parts.append(f"topic corrected to {row['topic']}")
    if row.get("urgency"):
        parts.append(f"urgency corrected to {row['urgency']}")
    if row.get("handoff") is not None:
        parts.append("handoff needed" if row["handoff"] else "no handoff needed")
    if row.get("article_id"):
        parts.append(f"article {row['article_id']} {'helped' if row.get('article_helped') else 'did not help'}")
    if row.get("draft_helped") is not None:
        parts.append("draft helped" if row["draft_helped"] else "draft did not help")
    if row.get("draft_action") == "sent":
        distance = row.get("draft_edit_distance")
        edited = "unedited" if distance == 0 else f"edit distance {distance:.2f}" if distance is not None else "edited"
        parts.append(f"draft sent ({edited})")
    elif row.get("draft_action") == "discarded":
        parts.append("draft discarded")
    return "; ".join(parts) or "comment"
