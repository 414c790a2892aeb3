"""Index builds: incremental re-encoding by passage hash (sections and their windows), index type by size,
the `sift index` command."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.kb import load_kb
from engine.kb.articles import chunk_article
from engine.models.encoders import Encoder
from engine.models.registry import ModelRegistry
from engine.retrieve import KBIndex, Retriever, build_index
from engine.retrieve.index import CURRENT, choose_index_type, passage_text
from engine.settings import REPO_ROOT

SHIPPED = REPO_ROOT / "kb_content"
MAPS = Path("/proc/self/maps")
ARTICLES = ("delivery-where-is-my-order", "account-reset-password", "technical-camera-not-recording")
ARTICLE_TITLE = "How do I update the thermostat firmware?"
NEW_ARTICLE = f"""---
id: firmware-update-thermostat
title: {ARTICLE_TITLE}
language: en
product: thermostat
tags: [firmware]
updated: 2026-02-01
---
## Update over the app

Open the Lumio app, choose the thermostat, then Settings > Firmware > Update now. Keep it powered for ten minutes.
"""


class CountingEncoder:
    """The real encoder, recording every passage it is asked to encode."""

    def __init__(self, inner: Encoder, encoder_id: str | None = None) -> None:
        self._inner = inner
        self.id = encoder_id or inner.id
        self.dim = inner.dim
        self.passages: list[str] = []

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._inner.encode_queries(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.passages += texts
        return self._inner.encode_passages(texts)


def test_index_type_follows_size_unless_set() -> None:
    assert choose_index_type(100_000) == "flat"
    assert choose_index_type(100_001) == "hnsw"
    assert choose_index_type(5, "auto", exact_max_chunks=4) == "hnsw"
    assert choose_index_type(10**7, "flat") == "flat"
    assert choose_index_type(1, "hnsw") == "hnsw"
    with pytest.raises(ValueError, match="index type"):
        choose_index_type(1, "ivf")


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A small KB: three shipped articles, copied so the tests can edit them."""
    folder = tmp_path / "kb"
    folder.mkdir()
    for name in ARTICLES:
        shutil.copy(SHIPPED / f"{name}.md", folder / f"{name}.md")
    return folder


def top_ids(registry: ModelRegistry, root: Path, query: str) -> list[str]:
    retriever = Retriever(registry, root)
    return [h.id for h in retriever.run(registry.encoder.encode_queries([query]), ["en"], 3)[0]]


@pytest.mark.slow
def test_reindex_encodes_only_changed_sections_and_keeps_search_right(
    registry: ModelRegistry, kb: Path, tmp_path: Path
) -> None:
    root = tmp_path / "index"
    encoder = CountingEncoder(registry.encoder)
    first = build_index(encoder, load_kb(kb), root)
    assert first.encoded == first.chunks + first.windows == len(encoder.passages) and first.windows > first.chunks
    assert first.full_reason == "no previous build" and len(first.added) == len(ARTICLES)
    assert top_ids(registry, root, "my camera does not record video")[0] == "technical-camera-not-recording"

    # Add one article, change one section of another, delete a third.
    (kb / "firmware-update-thermostat.md").write_text(NEW_ARTICLE, encoding="utf-8")
    camera = kb / "technical-camera-not-recording.md"
    camera.write_text(camera.read_text(encoding="utf-8") + "\n## Night mode\n\nNight mode records in black and white.\n")
    (kb / "account-reset-password.md").unlink()
    articles = load_kb(kb)
    encoder.passages.clear()
    second = build_index(encoder, articles, root)

    assert second.added == ("firmware-update-thermostat",)
    assert second.changed == ("technical-camera-not-recording",)
    assert second.deleted == ("account-reset-password",)
    assert second.unchanged == 1 and second.full_reason is None
    # Only the new article's section and its two sentence windows, and the camera article's new section
    # (one sentence: no window of its own), reach the encoder.
    assert len(encoder.passages) == second.encoded == 4
    assert any("Night mode" in p for p in encoder.passages) and any("Firmware" in p for p in encoder.passages)
    # The writer's tags sit after the title: the words customers search with (eval/bitext_answers.py).
    assert f"{ARTICLE_TITLE}. firmware. Update over the app\nKeep it powered for ten minutes." in encoder.passages
    assert second.reused == second.chunks + second.windows - 4
    assert second.chunks == sum(len(chunk_article(a)) for a in articles)

    # Reused vectors are the ones a full encode gives: the rebuilt index answers as a fresh one would.
    # (int8 activations are scaled per batch, so the same text in another batch moves a hair.)
    index = KBIndex.current(root, encoder.id)
    fresh = registry.encoder.encode_passages([passage_text(a, c) for a in articles for c in chunk_article(a)])
    assert (index.vectors(list(range(len(index.chunks)))) * fresh).sum(axis=1).min() > 0.998
    assert "account-reset-password" not in index.articles
    assert top_ids(registry, root, "How do I update the thermostat firmware?")[0] == "firmware-update-thermostat"
    assert "account-reset-password" not in top_ids(registry, root, "I forgot my password")
    assert top_ids(registry, root, "does night mode record in colour?")[0] == "technical-camera-not-recording"
    meta = json.loads((index.folder / "meta.json").read_text())
    assert set(meta["article_hashes"]) == {a.id for a in articles}
    assert "article_hashes" not in index.meta


@pytest.mark.slow
def test_full_rebuild_or_another_encoder_re_encodes_everything(
    registry: ModelRegistry, kb: Path, tmp_path: Path
) -> None:
    root = tmp_path / "index"
    articles = load_kb(kb)
    build_index(registry.encoder, articles, root)
    encoder = CountingEncoder(registry.encoder)
    report = build_index(encoder, articles, root, full=True)
    assert report.encoded == report.chunks + report.windows == len(encoder.passages) and report.reused == 0
    assert report.full_reason == "full rebuild requested" and report.unchanged == len(ARTICLES)

    other = CountingEncoder(registry.encoder, encoder_id="another-encoder")
    report = build_index(other, articles, root)
    assert report.encoded == report.chunks + report.windows and "another-encoder" not in (report.full_reason or "")
    assert "was encoded by" in (report.full_reason or "")
    assert json.loads((report.folder / "meta.json").read_text())["encoder_id"] == "another-encoder"


@pytest.mark.slow
def test_index_type_is_chosen_by_size_recorded_and_searchable(
    registry: ModelRegistry, kb: Path, tmp_path: Path
) -> None:
    articles = load_kb(kb)
    # Counted in sections, not in vectors (sections and their windows).
    sections = sum(len(chunk_article(a)) for a in articles)
    small = build_index(registry.encoder, articles, tmp_path / "small", exact_max_chunks=sections)
    large = build_index(registry.encoder, articles, tmp_path / "large", exact_max_chunks=sections - 1)
    forced = build_index(registry.encoder, articles, tmp_path / "forced", index_type="flat", exact_max_chunks=1)
    assert (small.index_type, large.index_type, forced.index_type) == ("flat", "hnsw", "flat")
    for root, kind, cls in (
        (tmp_path / "small", "flat", faiss.IndexFlatIP),
        (tmp_path / "large", "hnsw", faiss.IndexHNSWFlat),
    ):
        index = KBIndex.current(root, registry.encoder.id)
        assert index.meta["index_type"] == kind and isinstance(index.index, cls)
        if MAPS.is_file():  # Linux: the vectors are mapped from the build's file, not copied into memory
            assert str(index.folder / "index.faiss") in MAPS.read_text()
        assert top_ids(registry, root, "Where is my parcel? It has not arrived")[0] == "delivery-where-is-my-order"
    # How widely HNSW searches is a load-time setting, not frozen into the build.
    assert KBIndex.current(tmp_path / "large", registry.encoder.id, hnsw_ef_search=64).index.hnsw.efSearch == 64
    # An incremental build may change the type: vectors are read back from the HNSW build into a flat one.
    switched = build_index(registry.encoder, articles, tmp_path / "large", exact_max_chunks=sections)
    assert switched.index_type == "flat" and switched.encoded == 0


@pytest.mark.slow
def test_sift_index_reports_changes_and_full(
    registry: ModelRegistry, kb: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.settings import get_settings

    monkeypatch.setenv("SIFT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SIFT_KB_DIR", str(kb))
    get_settings.cache_clear()
    runner = CliRunner()
    first = runner.invoke(app, ["index"])
    assert first.exit_code == 0, first.output
    said = " ".join(first.stdout.split())  # the console wraps long lines
    assert "3 added" in said and "no previous build" in said and "sentence windows" in said
    (kb / "technical-camera-not-recording.md").unlink()
    second = runner.invoke(app, ["index"])
    assert second.exit_code == 0, second.output
    said = " ".join(second.stdout.split())
    assert "1 deleted" in said and "deleted: technical-camera-not-recording" in said
    assert "0 encoded" in said and "index: flat" in said
    full = runner.invoke(app, ["index", "--full"])
    assert full.exit_code == 0 and "all re-encoded: full rebuild requested" in " ".join(full.stdout.split())
    assert (tmp_path / "data" / "index" / CURRENT).is_file()


def test_sift_index_refuses_a_bad_kb_with_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("---\nid: x\ntitle: [unclosed\n---\nbody\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["index", "--kb", str(tmp_path)])
    assert result.exit_code == 2
    assert "front matter cannot be read" in result.output and "Traceback" not in result.output
