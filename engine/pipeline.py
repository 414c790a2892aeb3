"""The one pipeline: composes the stages on a batch of tickets, holds no business rules.

Every text is encoded exactly once, in one batched call (tickets and their
earlier customer messages together), and that embedding feeds sentiment, both
classifier heads, risk detection and retrieval. Language identification and
entity extraction, which need only the text, run on a thread of their own during
that call (``overlap_entities``). A stage that raises is recorded as failed in the result
and the ticket goes to a person; the other stages still answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
from threadpoolctl import threadpool_limits

from engine.classify import TicketClassifier
from engine.draft import DraftComposer
from engine.draft.composer import DraftRequest
from engine.entities import EntityExtractor, find_ticket_pii, redact
from engine.language import LanguageDetector
from engine.models.registry import ModelRegistry
from engine.normalise import Normaliser, answerable_text, has_words
from engine.retrieve import KnowledgeBases, Retriever
from engine.risk import RiskDetector, RiskInput
from engine.route import RouteInput, Router, load_policy
from engine.sentiment import SentimentAnalyser
from engine.settings import KnowledgeBase, Settings
from engine.translate import get_translator
from engine.types import (
    ArticleHit,
    Draft,
    LanguageResult,
    Message,
    Prediction,
    RiskSignal,
    SentimentResult,
    Span,
    Ticket,
    TriageResult,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


def raised(urgency: Prediction | None, routed: str | None, risks: tuple[RiskSignal, ...]) -> Prediction | None:
    """The urgency to report: the head's, or the level a risk raised it to in routing.

    A raised label carries the confidence of the most confident risk and keeps the head's
    probabilities as its alternatives, so the model's own reading stays visible.
    """
    head_label = urgency.label if urgency is not None and urgency.label else "normal"  # as the router reads it
    if not risks or routed is None or routed == head_label:
        return urgency
    version = urgency.model_version if urgency is not None else None
    return Prediction(
        label=routed,
        confidence=max(s.confidence for s in risks),
        alternatives=urgency.alternatives if urgency is not None else (),
        model_version=f"{version or 'none'}+risk-policy",
    )


class Pipeline:
    def __init__(self, settings: Settings, registry: ModelRegistry | None = None) -> None:
        # BLAS pools are per process: sized here, where their small products alternate with encoder calls
        # (training and evaluation keep every thread for their large ones).
        threadpool_limits(limits=settings.blas_threads, user_api="blas")
        self.settings = settings
        self.registry = registry or ModelRegistry(settings)
        self.normaliser = Normaliser()
        self.language = LanguageDetector.from_settings(self.registry, settings)
        self.sentiment = SentimentAnalyser(self.registry)
        self.classifier = TicketClassifier(self.registry, settings.out_of_scope_threshold)
        self.knowledge_bases = KnowledgeBases(settings.kbs(), self._retriever)
        self.entities = EntityExtractor(self.registry, settings.product_names)
        self.risk = RiskDetector(self.registry, settings.risk_threshold)
        self.drafter = DraftComposer(get_translator(settings.translator))
        self.router = Router(
            load_policy(settings.routing_file),
            settings.topic_confidence_threshold,
            settings.answer_confidence_threshold,
        )
        # Language and entities need the text, not the embedding: they run beside the encoder's pass.
        # The thread lives as long as the pipeline (a service may share its pipeline, so none closes it).
        self._beside = (
            ThreadPoolExecutor(1, thread_name_prefix="sift-entities") if settings.overlap_entities else None
        )

    def _retriever(self, kb: KnowledgeBase) -> Retriever:
        return Retriever.from_settings(self.registry, kb.index_dir)

    def warm_up(self) -> None:
        """Load every model now so that no request pays for it."""
        _ = self.registry.encoder
        for stage in (
            self.normaliser, self.language, self.sentiment, self.classifier, self.risk,
            self.knowledge_bases, self.entities, self.drafter, self.router,
        ):
            stage.warm_up()
        # One pass end to end, so that first-call costs inside any stage land here too.
        history = (Message("Hello, my order has not arrived.", "customer"),)
        self.run([Ticket(text="Warm-up: where is my order 12345?", messages=history)], ["warm-up"])

    def run(self, tickets: list[Ticket], ids: list[str]) -> list[TriageResult]:
        n = len(tickets)
        if n == 0:
            return []
        timings: dict[str, float] = {}
        failed: list[str] = []
        kbs = [self.knowledge_bases.resolve(t.kb) for t in tickets]

        @contextmanager
        def timed(name: str):  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            yield
            timings[name] = round((time.perf_counter() - start) * 1000, 2)

        def guarded(name: str, fn: Callable[[], T], fallback: T) -> T:
            # The isolation boundary the design asks for: one broken stage must not sink the ticket.
            with timed(name):
                try:
                    return fn()
                except Exception:  # noqa: BLE001
                    log.exception("stage %s failed for a batch of %d", name, n)
                    failed.append(name)
                    return fallback

        with timed("normalise"):
            texts = [t.text for t in self.normaliser.run(tickets)]

        def identify() -> list[LanguageResult]:
            return guarded(
                "language",
                lambda: self.language.run(
                    texts, [t.locale for t in tickets], [[m.text for m in t.messages if m.author == "customer"] for t in tickets]
                ),
                [LanguageResult("und", 0.0, True)] * n,
            )

        def find_entities(languages: list[LanguageResult]) -> list[tuple[tuple[Span, ...], tuple[Span, ...]]]:
            codes = [lang.code for lang in languages]
            return guarded("entities", lambda: self.entities.run(texts, codes), [((), ())] * n)

        if self._beside:
            # One worker, first in first out: the entity job starts once the languages are known.
            identified = self._beside.submit(identify)
            entities_found = self._beside.submit(lambda: find_entities(identified.result()))
        history_texts = [[m.text for m in t.messages if m.author == "customer" and m.text.strip()] for t in tickets]
        flat = texts + [h for hs in history_texts for h in hs]
        vectors = guarded("encode", lambda: self.registry.encoder.encode_queries(flat), None)
        current = vectors[:n] if vectors is not None else None
        histories: list[np.ndarray] = []
        offset = n
        for hs in history_texts:
            if vectors is not None:
                histories.append(vectors[offset : offset + len(hs)])
            offset += len(hs)

        sentiments: list[SentimentResult | None] = [None] * n
        topics: list[Prediction | None] = [None] * n
        urgencies: list[Prediction | None] = [None] * n
        hits: list[list[ArticleHit]] = [[] for _ in range(n)]
        languages = identified.result() if self._beside else identify()
        codes = [lang.code for lang in languages]
        # Risk reads the subject and body, every earlier customer message and their embeddings; without
        # embeddings (encoder failed) the lexicon still reads the text.
        no_rows = np.zeros((0, 0), dtype=np.float32)
        risks: list[tuple[RiskSignal, ...]] = guarded(
            "risk",
            lambda: self.risk.run(
                [
                    RiskInput(
                        texts=(texts[i], *history_texts[i]),
                        embeddings=np.vstack([current[i : i + 1], histories[i]]) if current is not None else no_rows,
                        language=languages[i],
                    )
                    for i in range(n)
                ]
            ),
            [()] * n,
        )
        if current is not None:
            sentiments = guarded("sentiment", lambda: list(self.sentiment.run(current, histories)), sentiments)
            topics, urgencies = guarded(
                "classify", lambda: tuple(map(list, self.classifier.run(current))), (topics, urgencies)
            )
            priors = [{a.label: a.probability for a in t.alternatives} if t else {} for t in topics]
            hits = guarded(
                "retrieve",
                lambda: self.knowledge_bases.run(
                    current,
                    codes,
                    [kb.name for kb in kbs],
                    self.settings.top_k_articles,
                    topic_priors=priors,
                    texts=[answerable_text(t) for t in texts],
                ),
                hits,
            )
        else:
            failed += ["sentiment", "classify", "retrieve"]
        found = entities_found.result() if self._beside else find_entities(languages)
        # Every field the customer wrote, the history too; a failure hands off rather than sinks the batch.
        pii = guarded("pii", lambda: [find_ticket_pii(t) for t in tickets], [()] * n)
        with timed("route"):
            decisions = self.router.run(
                [
                    RouteInput(
                        language=languages[i],
                        sentiment=sentiments[i],
                        topic=topics[i],
                        urgency=urgencies[i],
                        pii=pii[i],
                        articles=tuple(hits[i]),
                        customer_tier=tickets[i].customer_tier,
                        failed_stages=tuple(failed),
                        has_words=has_words(texts[i]),
                        risk=risks[i],
                    )
                    for i in range(n)
                ]
            )
        withheld = [self.router.withholds_answer(handoff) for _, handoff in decisions]
        drafts: list[Draft | None] = guarded(
            "draft",
            lambda: list(
                self.drafter.run(
                    [
                        DraftRequest(
                            language=codes[i],
                            customer_name=tickets[i].customer_name,
                            sentiment=sentiments[i],
                            entities=found[i][0],
                            articles=tuple(hits[i]),
                            answer_threshold=self.settings.answer_confidence_threshold,
                            agent_name=kbs[i].agent_name,
                            url_template=kbs[i].article_url_template,
                            may_quote=not withheld[i],
                        )
                        for i in range(n)
                    ]
                )
            ),
            [None] * n,
        )
        results = []
        for i in range(n):
            route, handoff = decisions[i]
            results.append(
                TriageResult(
                    id=ids[i],
                    language=languages[i],
                    sentiment=sentiments[i],
                    urgency=raised(urgencies[i], route.urgency, risks[i]),
                    topic=topics[i] or Prediction(None, 0.0),
                    entities=found[i][0],
                    pii=pii[i],
                    articles=tuple(hits[i]),
                    answer_confidence=None
                    if "retrieve" in failed
                    else 0.0
                    if withheld[i] or not hits[i]
                    else hits[i][0].answer_confidence,
                    draft=drafts[i],
                    route=route,
                    handoff=self.router.with_draft(handoff, drafts[i]),
                    kb=kbs[i].name,
                    answer_withheld=withheld[i],
                    failed_stages=tuple(failed),
                    timings_ms=dict(timings),
                    risk=risks[i],
                )
            )
            log.debug("triaged %s: %s", ids[i], redact(texts[i][:200], [s for s in found[i][1] if s.end <= 200]))
        return results

