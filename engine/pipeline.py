"""The one pipeline: runs the stages in order over a batch of tickets, holds no business rules.

Every stage follows one contract (``engine/stage.py``): it reads the batch's ticket states and fills its own
part of each. Every text is encoded once, in one batched call (tickets and their earlier customer messages
together), and sentiment, both classifier heads, risk detection and retrieval read those rows. Language
identification and entity extraction need only the text: they run on a thread of their own during that
call (``overlap_entities``). A stage that raises is recorded as failed and the ticket goes to a person; the
other stages still answer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from threadpoolctl import threadpool_limits

from engine.automate import Automator, load_service_levels
from engine.classify import TicketClassifier
from engine.draft import DraftComposer
from engine.entities import EntityExtractor
from engine.language import LanguageDetector
from engine.macros import MacroSuggester
from engine.models.registry import ModelRegistry
from engine.models.ticket_encoder import TicketEncoder
from engine.normalise import Normaliser
from engine.privacy.pii_stage import PiiFinder
from engine.retrieve import KnowledgeBases, Retriever
from engine.risk import RiskDetector
from engine.route import Router, load_policy, reported_urgency
from engine.sentiment import SentimentAnalyser
from engine.settings import KnowledgeBase, Settings
from engine.stage import EarlierContact, Stage, TicketState
from engine.translate import GistTranslator, build_translator
from engine.types import Message, Prediction, Ticket, TriageResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Beside:
    """A stage and the stages that run on the pipeline's second thread while it runs (in their order)."""

    main: Stage
    beside: tuple[Stage, ...]


class Pipeline:
    def __init__(self, settings: Settings, registry: ModelRegistry | None = None) -> None:
        # BLAS pools are per process: sized here, where their small products alternate with encoder calls
        # (training and evaluation keep every thread for their large ones).
        threadpool_limits(limits=settings.blas_threads, user_api="blas")
        self.settings = settings
        self.registry = registry or ModelRegistry(settings)
        self.policy = load_policy(settings.routing_file)
        thresholds = self.policy.thresholds
        self.language = LanguageDetector.from_settings(self.registry, settings)
        self.classifier = TicketClassifier(self.registry, thresholds.out_of_scope)
        self.knowledge_bases = KnowledgeBases(settings.kbs(), self._retriever, settings.top_k_articles)
        self.entities = EntityExtractor(self.registry, settings.product_names)
        self.risk = RiskDetector(self.registry, thresholds.risk)
        self.translator = build_translator(settings)
        # The order they run in; a new stage is one module and one entry here.
        self.steps: tuple[Stage | Beside, ...] = (
            Normaliser(settings.strip_email_noise),
            Beside(TicketEncoder(self.registry), (self.language, self.entities)),
            self.risk,
            SentimentAnalyser(self.registry),
            self.classifier,
            self.knowledge_bases,
            PiiFinder(),
            Router(self.policy),
            DraftComposer(self.registry, self.translator, thresholds.answer_confidence),
            GistTranslator(self.translator),
            Automator(load_service_levels(settings.service_levels_file)),
            MacroSuggester(self.registry, settings.macros_dir, settings.macro_suggestions),
        )
        # The thread lives as long as the pipeline (a service may share its pipeline, so none closes it).
        self._beside = (
            ThreadPoolExecutor(1, thread_name_prefix="sift-beside") if settings.overlap_entities else None
        )

    def _retriever(self, kb: KnowledgeBase) -> Retriever:
        return Retriever.from_settings(self.registry, kb.index_dir)

    @property
    def stages(self) -> list[Stage]:
        """Every stage in the order it starts."""
        return [s for step in self.steps for s in ((step.main, *step.beside) if isinstance(step, Beside) else (step,))]

    def warm_up(self) -> None:
        """Load every model now so that no request pays for it."""
        for stage in self.stages:
            stage.warm_up()
        # One pass end to end, so that first-call costs inside any stage land here too.
        history = (Message("Hello, my order has not arrived.", "customer"),)
        self.run([Ticket(text="Warm-up: where is my order 12345?", messages=history)], ["warm-up"])

    def run(
        self, tickets: list[Ticket], ids: list[str], earlier: Sequence[tuple[EarlierContact, ...]] | None = None
    ) -> list[TriageResult]:
        """Triage a batch; ``earlier`` is each ticket's customer's recent tickets from the ticket log (none: ())."""
        timings: dict[str, float] = {}
        return [self._result(state, timings) for state in self.states(tickets, ids, earlier, timings)]

    def states(
        self,
        tickets: list[Ticket],
        ids: list[str],
        earlier: Sequence[tuple[EarlierContact, ...]] | None = None,
        timings: dict[str, float] | None = None,
    ) -> list[TicketState]:
        """Every stage over the batch, the ticket states kept: `sift policy simulate` re-decides them under other
        policies without running the models again."""
        if not tickets:
            return []
        timings = {} if timings is None else timings
        batch = [
            TicketState(t, id_, self.knowledge_bases.resolve(t.kb), earlier=e)
            for t, id_, e in zip(tickets, ids, earlier or [()] * len(tickets), strict=True)
        ]
        for step in self.steps:
            if not isinstance(step, Beside):
                self._run(step, batch, timings)
            elif self._beside is None:
                for stage in (step.main, *step.beside):
                    self._run(stage, batch, timings)
            else:
                # One worker, first in first out: each stage beside starts once the one before it is done.
                pending = [self._beside.submit(self._run, stage, batch, timings) for stage in step.beside]
                self._run(step.main, batch, timings)
                for future in pending:
                    future.result()
        return batch

    @staticmethod
    def _run(stage: Stage, batch: Sequence[TicketState], timings: dict[str, float]) -> None:
        """The isolation boundary: one broken stage must not sink the ticket (unless nothing can replace it)."""
        failed = batch[0].failed
        if any(need in failed for need in stage.needs):
            failed_too = stage.name
        else:
            start = time.perf_counter()
            try:
                stage.run(batch)
                failed_too = None
            except Exception:
                if stage.required:
                    raise
                log.exception("stage %s failed for a batch of %d", stage.name, len(batch))
                failed_too = stage.name
            timings[stage.name] = round((time.perf_counter() - start) * 1000, 2)
        if failed_too is not None:
            for state in batch:
                state.failed.append(failed_too)

    def _result(self, s: TicketState, timings: dict[str, float]) -> TriageResult:
        assert s.route is not None and s.handoff is not None, "the route stage is required"
        log.debug("triaged %s -> %s", s.id, s.route.queue)
        return TriageResult(
            id=s.id,
            kb=s.kb.name,
            language=s.language,
            sentiment=s.sentiment,
            urgency=reported_urgency(s.urgency, s.route.urgency, s.risk),
            topic=s.topic or Prediction(None, 0.0),
            entities=s.entities,
            pii=s.pii,
            articles=s.articles,
            # Nothing known when retrieval failed; nothing to quote when the policy withholds the answer.
            answer_confidence=None
            if "retrieve" in s.failed
            else 0.0
            if s.answer_withheld or not s.articles
            else s.articles[0].answer_confidence,
            draft=s.draft,
            route=s.route,
            handoff=Router.with_draft(s.handoff, s.draft, self.policy.handoff_machine_translated),
            risk=s.risk,
            answer_withheld=s.answer_withheld,
            gist=s.gist,
            failed_stages=tuple(s.failed),
            timings_ms=dict(timings),
            macros=s.macros,
            automations=s.automations,
        )
