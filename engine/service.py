"""What the API and the CLI share: accept, persist, triage, persist, answer."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from engine.errors import InvalidInput
from engine.pipeline import Pipeline
from engine.result_json import article_json, result_to_json
from engine.retrieve.retriever import SearchFilter
from engine.settings import Settings
from engine.store import Feedback, FeedbackStore, TicketStore
from engine.types import Message, Ticket


def ticket_from_payload(payload: dict[str, Any], max_chars: int, prefix: str = "") -> Ticket:
    """Build a Ticket from an already schema-checked dict, naming the field on refusal."""
    text = payload.get("text")
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput(f"{prefix}text", "must contain non-whitespace characters")
    if len(text) > max_chars:
        raise InvalidInput(f"{prefix}text", f"is {len(text)} characters long; the limit is {max_chars}")
    messages = tuple(
        Message(text=str(m.get("text", "")), author=m.get("author", "customer"))
        for m in payload.get("messages") or []
    )
    return Ticket(
        text=text,
        subject=payload.get("subject"),
        channel=payload.get("channel"),
        customer_name=payload.get("customer_name"),
        customer_tier=payload.get("customer_tier"),
        locale=payload.get("locale"),
        messages=messages,
        metadata=dict(payload.get("metadata") or {}),
    )


@dataclass
class TriageService:
    settings: Settings
    pipeline: Pipeline
    store: TicketStore
    feedback: FeedbackStore

    def __post_init__(self) -> None:
        # The encoder engine is not re-entrant; batches queue here instead.
        self.lock = threading.Lock()

    @classmethod
    def create(cls, settings: Settings) -> TriageService:
        return cls(
            settings, Pipeline(settings), TicketStore(settings.database_path), FeedbackStore(settings.database_path)
        )

    def triage(self, payloads: list[dict[str, Any]], field_prefix: str = "") -> list[dict[str, Any]]:
        """Validate all, store all, then process; a refused ticket refuses the whole batch before storage."""
        many = len(payloads) > 1 or field_prefix
        tickets = [
            ticket_from_payload(p, self.settings.max_text_chars, f"{field_prefix}{i}." if many else field_prefix)
            for i, p in enumerate(payloads)
        ]
        ids = self.store.accept(payloads)
        try:
            with self.lock:
                results = self.pipeline.run(tickets, ids)
        except Exception as exc:
            self.store.fail(ids, f"{type(exc).__name__}: {exc}")
            raise
        out = [result_to_json(r) for r in results]
        self.store.complete(list(zip(ids, out, strict=True)))
        return out

    def suggest(self, query: str, language: str | None, limit: int, products: list[str]) -> dict[str, Any]:
        """Public articles for a customer's question, in their language where the KB has it."""
        if not query.strip():
            raise InvalidInput("q", "must contain non-whitespace characters")
        code = language or self.pipeline.language.detect(query).code
        with self.lock:
            vector = self.pipeline.registry.encoder.encode_queries([query])
            hits = self.pipeline.retriever.run(
                vector,
                [code],
                limit,
                SearchFilter(include_internal=False, products=frozenset(products)),
                texts=[query],
            )[0]
        return {"query": query, "language": code, "articles": [article_json(h) for h in hits]}

    def record_feedback(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Store an agent's correction of a triaged ticket; no model is involved, so no lock."""
        record = self.feedback.record(Feedback(**payload))
        return {"id": record.id, "ticket_id": record.feedback.ticket_id, "created_at": record.created_at}

    def reload(self) -> dict[str, Any]:
        """Swap in the latest KB index build and the active head versions."""
        with self.lock:
            self.pipeline.registry.reload_heads()
            index = self.pipeline.retriever.reload()
            self.pipeline.classifier.warm_up()
        return {"status": "reloaded", "index": index.meta}

    def close(self) -> None:
        """Close both stores (the ticket log and its feedback share one database file)."""
        self.feedback.close()
        self.store.close()
