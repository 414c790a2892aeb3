"""First-run set-up of a data directory: build the KB index and the default heads if absent.

Idempotent, so set-up scripts, `sift serve` and tests can all call it; a data
directory that already has an index and active heads is left untouched.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from engine.classify import HEAD_NAMES
from engine.kb import load_kb
from engine.kb.articles import chunk_article
from engine.language import LanguageDetector
from engine.models.convert import ConversionReport, convert_if_needed
from engine.models.heads import active_version
from engine.models.registry import ModelRegistry
from engine.privacy.owner_only import private_dir
from engine.retrieve import build_index
from engine.retrieve.index import PASSAGE_FORMAT, IndexReport, Progress, current_meta, passage_text
from engine.settings import KnowledgeBase, Settings
from engine.training.data import json_lines, read_labelled
from engine.training.heads import HeadReport, train_heads

log = logging.getLogger(__name__)
BOOTSTRAP_LOCK = ".bootstrap.lock"


@dataclass(frozen=True)
class BootstrapReport:
    indexed: list[str]
    """The knowledge bases whose index was built because they had none."""
    trained: list[HeadReport]


def index_kb(
    registry: ModelRegistry, kb: KnowledgeBase, progress: Progress | None = None, full: bool = False
) -> IndexReport:
    """(Re)build the index of one knowledge base, re-encoding only changed sections unless ``full``."""
    settings = registry.settings
    detector = LanguageDetector.from_settings(registry, settings)
    # Before the encoder loads: a bad KB fails at once. Articles that do not name their language are read
    # among the served languages, as tickets are.
    articles = load_kb(kb.kb_dir, lambda text: detector.detect(text).code)
    return build_index(
        registry.encoder,
        articles,
        kb.index_dir,
        progress,
        full=full,
        index_type=settings.index_type,
        exact_max_chunks=settings.exact_max_chunks,
        window_sentences=settings.window_sentences,
        second=registry.retrieval_second_view,
    )


def index_needed(registry: ModelRegistry, kb: KnowledgeBase) -> str | None:
    """Why the KB's current build must be built again before serving, or None when it serves as it is.

    A build from an earlier release would read differently from a fresh one (other passage texts, no second view)
    until the KB next changed. The build re-encodes only what differs."""
    meta = current_meta(kb.index_dir)
    if meta is None:
        return f"no index in {kb.index_dir}: building it from {kb.kb_dir}"
    if (found := meta.get("passage_format", 1)) != PASSAGE_FORMAT:
        return f"its passages were written in format {found}, not {PASSAGE_FORMAT}: re-encoding them"
    second = registry.retrieval_second_view
    if second is not None and meta.get("second_view") != second.id:
        return f"it lacks the second view {second.id}: adding it"
    return None


PARITY_TICKETS = 400


def parity_texts(settings: Settings) -> tuple[list[str], list[str]]:
    """Real text in every language the shipped data has: demo tickets as queries, KB sections as passages.

    The first ``PARITY_TICKETS`` tickets, in file order: they also calibrate the int8 graph's smoothing
    (``e5_onnx.quantise``), so a sample that moved with every ticket added to the demo file (a stride did) gave a
    different int8 encoder under the same id, and near-tied articles swapped places on fresh installs."""
    path = settings.default_training_data
    tickets = [str(row["text"]) for row in json_lines(path, path.read_text(encoding="utf-8"))]
    articles = load_kb(settings.kb_dir)
    # Passages as the first format wrote them (no tags): the graph every figure was measured with.
    passages = [passage_text(replace(a, tags=()), c) for a in articles for c in chunk_article(a)]
    return tickets[:PARITY_TICKETS], passages


def ensure_encoder(settings: Settings, force: bool = False) -> ConversionReport | None:
    """Convert the shipped weights for the onnx backend unless an up-to-date conversion is installed."""
    if settings.encoder_backend != "onnx":
        return None

    def texts() -> tuple[list[str], list[str]]:
        log.info("converting the shipped encoder into %s", settings.encoder_dir)
        return parity_texts(settings)

    return convert_if_needed(settings.encoder_dir, texts, force)


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One process at a time (``sift serve --workers N`` starts N at once): the first builds, the others wait and
    then find everything there. The lock goes with the process, so a killed builder never blocks the next."""
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def ensure_ready(registry: ModelRegistry) -> BootstrapReport:
    settings = registry.settings
    private_dir(settings.data_dir)  # the ticket log will live here: owner-only from the first run
    with _exclusive(settings.data_dir / BOOTSTRAP_LOCK):
        return _ensure_ready(registry)


def _ensure_ready(registry: ModelRegistry) -> BootstrapReport:
    settings = registry.settings
    ensure_encoder(settings)
    indexed = []
    for kb in settings.kbs().values():
        if (reason := index_needed(registry, kb)) is not None:
            log.info("the index of KB %r: %s", kb.name, reason)
            index_kb(registry, kb)
            indexed.append(kb.name)
    missing = {name: name for name in HEAD_NAMES if active_version(settings.heads_dir, name) is None}
    trained: list[HeadReport] = []
    if missing:
        log.info("training default %s heads from %s", ", ".join(missing), settings.default_training_data)
        data = read_labelled(
            settings.default_training_data, "text", list(missing), subject_column="subject", subject_optional=True
        )
        trained = train_heads(registry, data, missing)
    for name in HEAD_NAMES:
        # Heads trained with a second view this process does not load would only fail each batch's classify
        # stage, every ticket then going to a person: refuse to start instead, with the message (NotReady).
        registry.require_head(name)
    return BootstrapReport(indexed=indexed, trained=trained)
