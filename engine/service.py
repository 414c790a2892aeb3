"""What the API and the CLI share: accept, persist, triage, persist, answer."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.batching import BatchObserver, MicroBatcher
from engine.edit_distance import normalised_distance
from engine.errors import Conflict, InvalidInput, NotFound, NotReady
from engine.idempotency import NO_SOURCE, external_key, refuse_repeated_ids, stored_triage
from engine.input_text import clean_fields, clean_string
from engine.models.registry import ModelRegistry
from engine.normalise import encoder_text
from engine.pipeline import Pipeline
from engine.privacy.keys import customer_key, data_key
from engine.privacy.redact import mask_spans, redact_text, stored_payload, stored_result
from engine.recovery import Recovery
from engine.retrieve.article_text import article_text
from engine.retrieve.retriever import SearchFilter
from engine.risk import RiskInput
from engine.settings import Settings
from engine.stage import EarlierContact
from engine.store import Feedback, FeedbackStore, TicketStore
from engine.store.claims import Admitted, IdClash
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
    on_recovery: Callable[[str, int], None] | None = None
    """Called with what happened to tickets a fault left behind (``Metrics.recovery_observer``'s kinds)."""
    models_lock: threading.Lock | None = None
    """Shared by every tenant's service in a process: their pipelines use the same encoder (engine/batching.py)."""

    RETRY_WAIT_S = 120.0
    """How long a retry waits for another request (or process) still triaging its ticket before a 503."""

    def __post_init__(self) -> None:
        self._key: bytes | None = None
        # Keeps this process's claims on the tickets it triages alive (started by the first triage), and in
        # `sift serve` also finishes tickets dead processes left (start_recovery).
        self._recovery = Recovery(self)
        # One worker thread owns the models (the encoder is not re-entrant) and runs concurrent
        # requests' tickets together, one pipeline pass for many; see engine/batching.py.
        self.batcher: MicroBatcher[tuple[Ticket, str, tuple[EarlierContact, ...]], TriageResult] = MicroBatcher(
            self._run_pipeline,
            self.settings.max_pipeline_batch,
            self.settings.batch_wait_ms / 1000,
            self.on_batch,
            name=f"sift-batcher-{self.tenant}",
            models_lock=self.models_lock,
        )

    @classmethod
    def create(
        cls, settings: Settings, on_batch: BatchObserver | None = None,
        on_recovery: Callable[[str, int], None] | None = None,
        registry: ModelRegistry | None = None, models_lock: threading.Lock | None = None,
    ) -> TriageService:
        """``registry`` and ``models_lock``: another tenant's service's, to share its loaded models."""
        return cls(
            settings,
            Pipeline(settings, registry),
            TicketStore(settings.database),
            FeedbackStore(settings.database),
            on_batch,
            on_recovery,
            models_lock,
        )

    @property
    def tenant(self) -> str:
        return self.settings.tenant

    def _run_pipeline(self, batch: list[tuple[Ticket, str, tuple[EarlierContact, ...]]]) -> list[TriageResult]:
        return self.pipeline.run([t for t, _, _ in batch], [id_ for _, id_, _ in batch], [e for _, _, e in batch])

    def warm_up(self) -> None:
        """Load every model on the worker thread, so the encoder's threads start there and not in a request."""
        self.batcher.call(self.pipeline.warm_up)
        _freeze_heap()

    def triage(self, tickets: list[Ticket], field_prefix: str = "", source: str = NO_SOURCE) -> list[TriageResult]:
        """Check all, store all (masked), then process; a refused ticket refuses the whole batch before storage.

        The returned ``pii[].text`` is masked like the stored result: the caller has the text and the
        offsets, and a response copied into another system's logs should not carry a card number there.
        A ticket whose ``external_id`` is already in the log for ``source`` is not stored again: it is answered
        with the stored result, or its stored copy is finished (engine/store/claims.py).
        """
        many = len(tickets) > 1 or field_prefix
        prefixes = [f"{field_prefix}{i}." if many else field_prefix for i in range(len(tickets))]
        cleaned = [clean_fields(t, prefix.rstrip(".")) for t, prefix in zip(tickets, prefixes, strict=True)]
        tickets = [self._checked(values, prefix) for values, prefix in zip(cleaned, prefixes, strict=True)]
        refuse_repeated_ids(tickets, prefixes)
        keep = self.settings.pii_keep_last_digits
        customer_keys = [self._customer_key(t.customer_id) for t in tickets]
        earlier = self.earlier_contacts(customer_keys)
        keys = [external_key(t, source, self._data_key()) if t.external_id else None for t in tickets]
        try:
            admitted = self.store.claims.admit(
                [stored_payload(t, keep) for t in tickets], customer_keys, keys, self.store.owner, self.stale_before()
            )
        except IdClash as clash:
            raise Conflict(
                f"{prefixes[clash.index]}external_id",
                f"{tickets[clash.index].external_id!r} is already in the ticket log (ticket {clash.ticket_id}) with "
                "different content; a retry must send the same ticket, a new ticket needs a new id",
            ) from None
        return self._answer(tickets, admitted, earlier, prefixes)

    def stale_before(self) -> str:
        """Claims renewed before this instant (ISO, UTC) are a dead process's."""
        cutoff = datetime.now(UTC) - timedelta(seconds=self.settings.ticket_lease_seconds)
        return cutoff.isoformat(timespec="milliseconds")

    def _answer(
        self, tickets: list[Ticket], admitted: list[Admitted], earlier: list[tuple[EarlierContact, ...]],
        prefixes: list[str],
    ) -> list[TriageResult]:
        """Each ticket's result: triaged now when ours to triage, else read from the log (waiting if need be)."""
        out: list[TriageResult | None] = [
            stored_triage(a.result) if a.state == "processed" and a.result else None for a in admitted
        ]
        mine = [i for i, a in enumerate(admitted) if a.state in ("new", "resumed")]
        self.report("replayed", sum(a.state == "processed" for a in admitted))
        self.report("resumed", sum(a.state == "resumed" for a in admitted))
        if mine:
            done = self.process([tickets[i] for i in mine], [admitted[i].id for i in mine], [earlier[i] for i in mine])
            for i, result in zip(mine, done, strict=True):
                out[i] = result
        busy = {i: admitted[i].id for i, a in enumerate(admitted) if a.state == "busy"}
        if busy:
            for i, result in self._await(busy, tickets, earlier, prefixes).items():
                out[i] = result
        return [r for r in out if r is not None]

    def process(
        self, tickets: list[Ticket], ids: list[str], earlier: list[tuple[EarlierContact, ...]]
    ) -> list[TriageResult]:
        """Triage tickets this process has claimed and store their results.

        A ticket another claimant finished first keeps that result, and it is the one returned.
        """
        self._recovery.keep_claims()
        keep = self.settings.pii_keep_last_digits
        try:
            results = self.batcher.submit(list(zip(tickets, ids, earlier, strict=True)))
        except Exception as exc:
            self.store.fail(ids, f"{type(exc).__name__}: {exc}")
            raise
        out = [mask_spans(r, keep) for r in results]
        stored = [(id_, stored_result(r, t, keep)) for id_, r, t in zip(ids, out, tickets, strict=True)]
        if self.store.complete(stored) < len(stored):
            states = self.store.claims.states(ids)
            theirs = {id_: states[id_].result for id_, mine in stored if id_ in states and states[id_].result != mine}
            out = [stored_triage(theirs[r.id]) if theirs.get(r.id) else r for r in out]
        return out

    def _await(
        self, busy: dict[int, str], tickets: list[Ticket], earlier: list[tuple[EarlierContact, ...]],
        prefixes: list[str],
    ) -> dict[int, TriageResult]:
        """Results of tickets another request or process is triaging: read once stored, taken over if it died."""
        found: dict[int, TriageResult] = {}
        deadline = time.monotonic() + self.RETRY_WAIT_S
        while busy:
            time.sleep(0.2)
            states = self.store.claims.states(list(busy.values()))
            for i, ticket_id in list(busy.items()):
                stored, stale = states.get(ticket_id), self.stale_before()
                if stored is None:
                    raise NotFound(f"{prefixes[i]}external_id: ticket {ticket_id} was erased while this retry waited")
                if stored.status == "processed" and stored.result is not None:
                    found[i] = stored_triage(stored.result)
                elif stored.takeable(stale) and self.store.claims.take_over(ticket_id, self.store.owner, stale):
                    self.report("resumed", 1)
                    [found[i]] = self.process([tickets[i]], [ticket_id], [earlier[i]])
                else:
                    continue
                del busy[i]
            if busy and time.monotonic() > deadline:
                i, ticket_id = next(iter(busy.items()))
                raise NotReady(f"{prefixes[i]}external_id: ticket {ticket_id} is still being triaged; retry later", 5)
        return found

    def report(self, kind: str, n: int) -> None:
        """Tell ``on_recovery`` that ``n`` tickets were ``kind`` (replayed, resumed, recovered, failed, abandoned)."""
        if n and self.on_recovery is not None:
            self.on_recovery(kind, n)

    def earlier_contacts(self, customer_keys: list[str | None]) -> list[tuple[EarlierContact, ...]]:
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
        return customer_key(customer_id, self._data_key())

    def _data_key(self) -> bytes:
        if self._key is None:
            self._key = data_key(self.settings.data_dir)
        return self._key

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
            registry = self.pipeline.registry
            vector = registry.encoder.encode_queries([encoder_text(query)])
            second = registry.retrieval_second_view
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
                second_queries=second.encode([encoder_text(query)]) if second is not None else None,
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
        payload = self._draft_edit(payload)
        record = self.feedback.record(Feedback(**payload))
        return {"id": record.id, "ticket_id": record.feedback.ticket_id, "created_at": record.created_at}

    def _draft_edit(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``payload`` with ``sent_text`` replaced by its normalised edit distance from the ticket's stored draft:
        how much the agent changed the draft is kept, what they sent (personal data) is not."""
        payload = dict(payload)
        sent = payload.pop("sent_text", None)
        if sent is None:
            return payload
        if payload.get("draft_action") != "sent":
            raise InvalidInput("sent_text", "comes only with draft_action 'sent'")
        if payload.get("draft_edit_distance") is not None:
            raise InvalidInput("draft_edit_distance", "give sent_text or draft_edit_distance, not both")
        sent = clean_string(sent, "sent_text")
        stored = self.store.get(clean_string(str(payload.get("ticket_id") or ""), "ticket_id"))
        if stored is None:
            raise InvalidInput("ticket_id", f"no ticket {payload.get('ticket_id')!r} in the ticket log")
        draft = ((stored["result"] or {}).get("draft") or {}).get("text")
        if not isinstance(draft, str):
            raise InvalidInput("sent_text", "the ticket has no drafted reply to compare with")
        return {**payload, "draft_edit_distance": normalised_distance(draft, sent)}

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

    def start_recovery(self) -> None:
        """Keep this process's claims alive and finish tickets dead processes left (``sift serve``, once warm)."""
        self._recovery.start()

    def close(self) -> None:
        """Finish queued work and stop the worker, then close both stores (they share one database file)."""
        self._recovery.stop()
        self.batcher.close()
        self.feedback.close()
        self.store.close()

