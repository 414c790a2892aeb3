"""First-run set-up of a data directory: build the KB index and the default heads if absent.

Idempotent, so set-up scripts, `sift serve` and tests can all call it; a data
directory that already has an index and active heads is left untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from engine.classify import HEAD_NAMES
from engine.classify.data import read_labelled
from engine.classify.training import HeadReport, train_heads
from engine.models.heads import active_version
from engine.models.registry import ModelRegistry
from engine.retrieve import build_index, load_kb
from engine.retrieve.index import CURRENT

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BootstrapReport:
    built_index: bool
    trained: list[HeadReport]


def index_kb(registry: ModelRegistry, progress: Callable[[int], None] | None = None) -> dict[str, object]:
    """(Re)build the index of ``settings.kb_dir`` and return its metadata."""
    articles = load_kb(registry.settings.kb_dir)
    folder = build_index(registry.encoder, articles, registry.settings.index_dir, progress)
    return {"folder": str(folder), "articles": len(articles)}


def ensure_ready(registry: ModelRegistry) -> BootstrapReport:
    settings = registry.settings
    built = False
    if not (settings.index_dir / CURRENT).is_file():
        log.info("no KB index in %s: building it from %s", settings.index_dir, settings.kb_dir)
        index_kb(registry)
        built = True
    missing = {name: name for name in HEAD_NAMES if active_version(settings.heads_dir, name) is None}
    trained: list[HeadReport] = []
    if missing:
        log.info("training default %s heads from %s", ", ".join(missing), settings.default_training_data)
        data = read_labelled(settings.default_training_data, "text", list(missing), subject_column="subject")
        trained = train_heads(registry, data, missing)
    return BootstrapReport(built_index=built, trained=trained)
