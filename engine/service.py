"""What the API and the CLI share: accept, persist, triage, persist, answer."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.batching import BatchObserver, MicroBatcher
from engine.errors import InvalidInput, NotFound
from engine.input_text import clean_fields
from engine.normalise import encoder_text
from engine.pipeline import Pipeline
from engine.privacy.keys import customer_key, data_key
from engine.privacy.redact import mask_spans, redact_text, stored_payload, stored_result
from engine.retrieve.article_text import article_text
from engine.retrieve.retriever import SearchFilter
from engine.risk import RiskInput
from engine.settings import Settings
from engine.stage import EarlierContact
from engine.store import Feedback, FeedbackStore, TicketStore
from engine.types import BLANK_TEXT, ArticleHit, ArticleText, Suggestion, Ticket, TriageResult


def _freeze_heap() -> None:
    """Move what start-up loaded out of the garbage collector's sight; it lives as long as the process.

    The models leave about 340k tracked objects (langdetect's and py3langid's tables, spaCy's vocabulary,
    scikit-learn estimators): every full collection walked them all, 234 ms on the 2-core benchmark box,
    inside whichever request triggered it. Frozen, a full collection walks only what requests create.
    """
    gc.collect()
    gc.freeze()


@dataclass
class TriageService:
    settings: Settings
    pipeline: Pipeline
    store: TicketStore
    feedback: FeedbackStore
    on_batch: BatchObserver | None = None

    def __post_init__(self) -> None:
        self._key: bytes | None = None
        # One worker thread owns the models (the encoder is not re-entrant) and runs concurrent
        # requests' tickets together, one pipeline pass for many; see engine/batching.py.
        self.batcher: MicroBatcher[tuple[Ticket, str, tuple[EarlierContact, ...]], TriageResult] = MicroBatcher(
            self._run_pipeline,
            self.settings.max_pipeline_batch,
            self.settings.batch_wait_ms / 1000,
            self.on_batch,
        )

    @classmethod
    def create(cls, settings: Settings, on_batch: BatchObserver | None = None) -> TriageService:
        return cls(
            settings,
            Pipeline(settings),
            TicketStore(settings.database),
            FeedbackStore(settings.database),
            on_batch,
        )

    def _run_pipeline(self, batch: list[tuple[Ticket, str, tuple[EarlierContact, ...]]]) -> list[TriageResult]:
        return self.pipeline.run([t for t, _, _ in batch], [id_ for _, id_, _ in batch], [e for _, _, e in batch])

    def warm_up(self) -> None:
        """Load every model on the worker thread, so the encoder's threads start there and not in a request."""
        self.batcher.call(self.pipeline.warm_up)
        _freeze_heap()

    def triage(self, tickets: list[Ticket], field_prefix: str = "") -> list[TriageResult]:
        """Check all, store all (masked), then process; a refused ticket refuses the whole batch before storage.

        The returned ``pii[].text`` is masked like the stored result: the caller has the text and the
        offsets, and a response copied into another system's logs should not carry a card number there.
        """
        many = len(tickets) > 1 or field_prefix
        prefixes = [f"{field_prefix}{i}." if many else field_prefix for i in range(len(tickets))]
        cleaned = [clean_fields(t, prefix.rstrip(".")) for t, prefix in zip(tickets, prefixes, strict=True)]
        tickets = [self._checked(values, prefix) for values, prefix in zip(cleaned, prefixes, strict=True)]
        keep = self.settings.pii_keep_last_digits
        customer_keys = [self._customer_key(t.customer_id) for t in tickets]
        earlier = self._earlier_contacts(customer_keys)
        ids = self.store.accept([stored_payload(t, keep) for t in tickets], customer_keys)
        try:
            results = self.batcher.submit(list(zip(tickets, ids, earlier, strict=True)))
        except Exception as exc:
            self.store.fail(ids, f"{type(exc).__name__}: {exc}")
            raise
        out = [mask_spans(r, keep) for r in results]
        self.store.complete([(id_, stored_result(r, t, keep)) for id_, r, t in zip(ids, out, tickets, strict=True)])
        return out

    def _earlier_contacts(self, customer_keys: list[str | None]) -> list[tuple[EarlierContact, ...]]:
        """Each ticket's customer's tickets inside the policy's repeated_contact window, read before these are stored."""
        rule = self.pipeline.policy.repeated_contact
        known = [k for k in customer_keys if k]
        if rule is None or not known:
            return [()] * len(customer_keys)
        since = (datetime.now(UTC) - timedelta(days=rule.within_days)).isoformat(timespec="milliseconds")
        found = self.store.earlier_contacts(known, since)
        return [tuple(found.get(k, ())) if k else () for k in customer_keys]

    def _checked(self, values: dict[str, Any], prefix: str) -> Ticket:
        """The cleaned ticket, refused naming the field where the settings or the configured KBs forbid it."""
        text, customer_id = values["text"], values["customer_id"]
        if not text.strip():
            raise InvalidInput(f"{prefix}text", BLANK_TEXT)
        if len(text) > self.settings.max_text_chars:
            raise InvalidInput(f"{prefix}text", f"is {len(text)} characters long; the limit is {self.settings.max_text_chars}")
        if customer_id is not None and not customer_id.strip():
            raise InvalidInput(f"{prefix}customer_id", "must contain non-whitespace characters when given")
        self.pipeline.knowledge_bases.resolve(values["kb"], f"{prefix}kb")
        return Ticket(**values)

    def _customer_key(self, customer_id: str | None) -> str | None:
        """The stored form of a customer id (keyed hash); the key is read once, on the first id."""
        if not customer_id or not customer_id.strip():
            return None
        if self._key is None:
            self._key = data_key(self.settings.data_dir)
        return customer_key(customer_id, self._key)

    def write_problem(self) -> str | None:
        """``None`` when both stores can write now, else why not: ``/readyz`` fails rather than accept and lose."""
        return self.store.write_problem() or self.feedback.write_problem()

    def suggest(
        self,
        query: str,
        language: str | None,
        limit: int,
        products: list[str],
        kb: str | None = None,
        tags: list[str] | None = None,
        article_languages: list[str] | None = None,
    ) -> Suggestion:
        """Public articles of one knowledge base for a customer's question, in their language where it has it.

        ``products``, ``tags`` and ``article_languages`` narrow the articles (any of each list, all lists). A
        question showing a risk gets no article and ``handoff`` set: the page offers a person instead.
        """
        if not query.strip():
            raise InvalidInput("q", "must contain non-whitespace characters")
        knowledge_base = self.pipeline.knowledge_bases.resolve(kb)
        retriever = self.pipeline.knowledge_bases.retriever(knowledge_base.name)
        detected = self.pipeline.language.detect(query, locale=language)
        code = language or detected.code

        def search() -> tuple[list[ArticleHit], bool]:
            vector = self.pipeline.registry.encoder.encode_queries([encoder_text(query)])
            # A customer who writes of self-harm, a threat or fraud gets a person, not an article: the same
            # detector and the same rule (any risk withholds the answer) as a triaged ticket.
            risky = bool(self.pipeline.risk.detect([RiskInput((query,), vector, detected)])[0])
            if risky:
                return [], True
            return retriever.run(
                vector,
                [code],
                limit,
                SearchFilter(
                    include_internal=False,
                    products=frozenset(products),
                    languages=frozenset(lang.lower() for lang in article_languages or []),
                    tags=frozenset(tag.strip().lower() for tag in tags or []),
                ),
                texts=[query],
            )[0], False

        hits, handoff = self.batcher.call(search)
        confidence = hits[0].answer_confidence if hits else 0.0
        return Suggestion(query, knowledge_base.name, code, tuple(hits), confidence, handoff)

    def article(self, article_id: str, language: str, kb: str | None = None) -> ArticleText:
        """A public article in ``language``: the KB's own version, else a machine translation (marked so).

        Not on the pipeline's worker: no encoder is involved, and a page's translation may take seconds that
        queued tickets should not wait for (every backend is safe to call from several threads).
        """
        knowledge_base = self.pipeline.knowledge_bases.resolve(kb)
        index = self.pipeline.knowledge_bases.retriever(knowledge_base.name).index
        return article_text(index, knowledge_base.name, article_id, language.lower(), self.pipeline.translator)

    def gap_report(self, kb: str | None, since: str | None, min_tickets: int) -> dict[str, Any]:
        """The gap report over the ticket log, masked, as JSON (``sift gaps`` prints the same report).

        Encoding runs on the pipeline's worker 64 texts at a time, so triage batches interleave with a long report.
        """
        import numpy as np

        from engine.report.gap_run import GapOptions, article_ratings, build_report, logged_tickets
        from engine.report.gaps import mask_report

        knowledge_base = self.pipeline.knowledge_bases.resolve(kb)
        encoder = self.pipeline.registry.encoder

        def on_worker(encode: Any) -> Any:
            def run(texts: list[str]) -> np.ndarray:
                parts = [self.batcher.call(lambda c=texts[i : i + 64]: encode(c)) for i in range(0, len(texts), 64)]
                return np.vstack(parts) if parts else np.zeros((0, 1), dtype=np.float32)

            return run

        options = GapOptions(self.pipeline.policy.thresholds.answer_confidence, min_tickets, since=since)
        report = build_report(
            logged_tickets(self.settings, since), knowledge_base.name,
            self.pipeline.knowledge_bases.retriever(knowledge_base.name).index,
            on_worker(encoder.encode_queries), on_worker(encoder.encode_passages),
            article_ratings(self.settings), options, self.settings.data_dir,
        )
        return mask_report(report, self.settings.pii_keep_last_digits).to_json()

    def record_feedback(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Store an agent's correction of a triaged ticket; no model is involved, so not on the worker.

        A topic must be one the topic head knows (or the out-of-scope label): a typo stored today would become a
        class of one example in the next `sift train --include-feedback`.
        """
        topic = payload.get("topic")
        if topic is not None:
            known = set(self.pipeline.registry.require_head("topic").labels)
            marker = self.settings.out_of_scope_label
            if topic not in known and not (marker and topic == marker):
                shown = ", ".join(sorted(known)[:20]) + (" ..." if len(known) > 20 else "")
                also = f" or {marker!r} (outside every topic)" if marker else ""
                raise InvalidInput("topic", f"unknown topic {topic!r}; the topic head knows {shown}{also}")
        comment = payload.get("comment")
        if isinstance(comment, str):  # an agent may quote the customer: masked like the ticket
            payload = {**payload, "comment": redact_text(comment, self.settings.pii_keep_last_digits)}
        record = self.feedback.record(Feedback(**payload))
        return {"id": record.id, "ticket_id": record.feedback.ticket_id, "created_at": record.created_at}

    def delete_feedback(self, feedback_id: str) -> None:
        """Delete one stored feedback; NotFound when there is none with that id."""
        if not self.feedback.delete(feedback_id):
            raise NotFound(f"no feedback {feedback_id!r}")

    def reload(self) -> dict[str, Any]:
        """Swap in every KB's latest index build and the active head versions, between two pipeline passes."""

        def swap() -> dict[str, dict[str, Any]]:
            gc.unfreeze()  # the heads and builds swapped out must be collectable
            try:
                self.pipeline.registry.reload_heads()
                indexes = self.pipeline.knowledge_bases.reload()
                self.pipeline.classifier.warm_up()
            finally:  # a failed reload must not leave the heap unfrozen (every later collection walks the models)
                _freeze_heap()
            return indexes

        indexes = self.batcher.call(swap)
        return {"status": "reloaded", "index": indexes[self.pipeline.knowledge_bases.default], "indexes": indexes}

    def close(self) -> None:
        """Finish queued work and stop the worker, then close both stores (they share one database file)."""
        self.batcher.close()
        self.feedback.close()
        self.store.close()
