"""Retrieval's second view (``retrieval_second_view``): its vectors in the index, reused by passage hash and added
to an older build; its cosine in the ranking where it knows both languages, and nowhere else."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from engine.bootstrap import ensure_ready
from engine.kb import load_kb
from engine.models.answer_confidence import FEATURES
from engine.models.registry import ModelRegistry
from engine.retrieve import KBIndex, Retriever, build_index
from engine.retrieve.index import SECOND_INDEX_FILE, current_meta
from engine.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.slow

SHIPPED = REPO_ROOT / "kb_content"
ARTICLES = ("delivery-where-is-my-order", "account-reset-password", "billing-charged-twice-unknown-charge")


class CountingView:
    """The real second view, recording every text it encodes."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.id = inner.id  # type: ignore[attr-defined]
        self.dim = inner.dim  # type: ignore[attr-defined]
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts += texts
        return self._inner.encode(texts)  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(scope="module")
def articles(registry: ModelRegistry) -> list:
    return [a for a in load_kb(SHIPPED) if (a.translation_of or a.id) in ARTICLES]


def test_the_index_holds_the_second_view_row_for_row_and_reuses_it(
    registry: ModelRegistry, articles: list, tmp_path: Path
) -> None:
    view = CountingView(registry.second_view)
    passes: list[tuple[int, int, str]] = []
    first = build_index(registry.encoder, articles, tmp_path, lambda *step: passes.append(step), second=view)
    # A progress bar names the pass it is in: e5's, then the second view's, each counting to its own total.
    labels = [label for _, _, label in passes]
    assert labels == ["sections"] * labels.count("sections") + ["second view"] * labels.count("second view")
    assert {(done, label) for done, total, label in passes if done == total} == {
        (first.encoded, "sections"), (first.second_encoded, "second view")
    }
    index = KBIndex.current(tmp_path, registry.encoder.id)
    assert index.second is not None and index.second.ntotal == index.index.ntotal == first.chunks + first.windows
    assert first.second_view == view.id and first.second_encoded == len(view.texts) > 0
    assert current_meta(tmp_path)["second_view"] == view.id  # type: ignore[index]
    # Row i of the second view is the passage of e5's row i.
    rows = index.second_vectors(np.arange(3))
    expected = registry.second_view.encode(view.texts[:3])  # type: ignore[union-attr]
    assert np.allclose(rows, expected, atol=1e-5)

    view.texts.clear()
    again = build_index(registry.encoder, articles, tmp_path, second=view)
    assert again.second_encoded == 0 and view.texts == []


def test_an_older_build_gains_the_second_view_without_re_encoding_e5(
    registry: ModelRegistry, articles: list, tmp_path: Path
) -> None:
    plain = build_index(registry.encoder, articles, tmp_path)
    assert plain.second_view is None and not (plain.folder / SECOND_INDEX_FILE).exists()
    assert KBIndex.current(tmp_path, registry.encoder.id).second is None
    view = CountingView(registry.second_view)
    completed = build_index(registry.encoder, articles, tmp_path, second=view)
    assert completed.encoded == 0 and completed.reused == plain.chunks + plain.windows
    assert completed.second_encoded == plain.chunks + plain.windows


def test_start_up_adds_the_second_view_to_an_index_built_without_it(
    ready_registry: ModelRegistry, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(ready_registry.settings.data_dir / "index", data_dir / "index")
    shutil.copytree(ready_registry.settings.heads_dir, data_dir / ready_registry.settings.heads_dir.name)
    off = ModelRegistry(Settings(data_dir=data_dir, translators=[], retrieval_second_view="none"))
    off.__dict__["encoder"] = ready_registry.encoder
    build_index(off.encoder, load_kb(SHIPPED), off.settings.index_dir)  # as a release without the view built it
    assert current_meta(off.settings.index_dir)["second_view"] is None  # type: ignore[index]
    assert ensure_ready(off).indexed == []  # the view is off: nothing to add

    on = ModelRegistry(Settings(data_dir=data_dir, translators=[]))
    on.__dict__["encoder"] = ready_registry.encoder
    on.__dict__["second_view"] = ready_registry.second_view
    report = ensure_ready(on)
    assert report.indexed == ["default"]
    meta = current_meta(on.settings.index_dir)
    assert meta is not None and meta["second_view"] == ready_registry.second_view.id  # type: ignore[union-attr]
    assert meta["encoded"] == 0  # e5's vectors were all reused
    assert ensure_ready(on).indexed == []


@pytest.fixture(scope="module")
def retrievers(ready_registry: ModelRegistry) -> tuple[Retriever, Retriever]:
    root = ready_registry.settings.index_dir
    assert KBIndex.current(root, ready_registry.encoder.id).second is not None  # the default settings build it
    return (
        Retriever.from_settings(ready_registry, root),
        Retriever.from_settings(ready_registry, root, second_view_weight=0.0),
    )


def ask(retriever: Retriever, registry: ModelRegistry, text: str, language: str, second: bool = True) -> list:
    view = registry.second_view
    assert view is not None
    return retriever.run(
        registry.encoder.encode_queries([text]), [language], 5, texts=[text],
        second_queries=view.encode([text]) if second else None,
    )[0]


@pytest.mark.parametrize(
    ("text", "language", "family"),
    [
        ("我的订单还没有到，包裹在哪里？", "zh", "delivery-where-is-my-order"),
        ("كيف أعيد تعيين كلمة المرور الخاصة بي؟", "ar", "account-reset-password"),
        ("С меня дважды списали деньги за один заказ", "ru", "billing-charged-twice-unknown-charge"),
    ],
)
def test_questions_in_languages_without_articles_find_the_english_one(
    retrievers: tuple[Retriever, Retriever], ready_registry: ModelRegistry, text: str, language: str, family: str
) -> None:
    both, e5_only = retrievers
    hits = ask(both, ready_registry, text, language)
    assert (hits[0].translation_of or hits[0].id) == family
    plain = ask(e5_only, ready_registry, text, language)
    # The ranking reads the second view; the similarity the answer confidence reads stays e5's (a cosine mix).
    assert hits[0].score != plain[0].score or [h.id for h in hits] != [h.id for h in plain]
    assert all(0.5 < h.similarity < 1.0 for h in hits)


class RecordingConfidence:
    """Answers 0.5 for every hit and keeps the features the retriever hands it."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []

    def probability(self, features: np.ndarray) -> np.ndarray:
        self.rows.append(features.copy())
        return np.full(len(features), 0.5)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Il mio pacco non è ancora arrivato", "it"),
        ("O meu pacote ainda não chegou", "pt"),
        ("我的订单还没有到，包裹在哪里？", "zh"),
        ("Мой заказ ещё не пришёл", "ru"),
    ],
)
def test_across_languages_the_answer_confidence_reads_the_margin_the_ranking_made(
    ready_registry: ModelRegistry, text: str, language: str
) -> None:
    """e5 alone ranks the damaged-parcel article above the where-is-my-order one for the Italian question, and a
    translation of an article may outrank the version shown: either way the article ranked first read as a
    runner-up (answer confidence 0.06). Across languages the margin is by rank score, family against family."""
    recorder = RecordingConfidence()
    retriever = Retriever.from_settings(ready_registry, ready_registry.settings.index_dir, confidence=recorder)
    hits = ask(retriever, ready_registry, text, language)
    margins = recorder.rows[-1][:, FEATURES.index("margin")]
    assert all(h.language == "en" for h in hits)
    assert margins[0] > 0 and (margins[1:] < 0).all()


def test_a_language_the_second_view_does_not_know_ranks_by_e5_alone(
    retrievers: tuple[Retriever, Retriever], ready_registry: ModelRegistry
) -> None:
    both, e5_only = retrievers
    text = "Moja narudžba još nije stigla, gdje je moj paket?"
    assert [(h.id, h.score) for h in ask(both, ready_registry, text, "hr")] == [
        (h.id, h.score) for h in ask(e5_only, ready_registry, text, "hr")
    ]
    # Without the query's second row (a caller that has none) it ranks by e5 alone as well.
    english = "Where is my parcel? My order has not arrived."
    assert [(h.id, h.score) for h in ask(both, ready_registry, english, "en", second=False)] == [
        (h.id, h.score) for h in ask(e5_only, ready_registry, english, "en")
    ]


def test_suggestions_through_the_api_read_the_second_view(
    client: TestClient, retrievers: tuple[Retriever, Retriever], ready_registry: ModelRegistry
) -> None:
    """The help centre's search (no pipeline run) ranks with the second view too: its scores are the fused ones."""
    text = "我的订单还没有到，包裹在哪里？"
    response = client.get("/v1/articles/suggest", params={"q": text, "lang": "zh", "limit": 3})
    assert response.status_code == 200, response.text
    found = response.json()["articles"]
    direct = ask(retrievers[0], ready_registry, text, "zh")[:3]
    assert [(a["id"], a["score"]) for a in found] == [(h.id, h.score) for h in direct]
