"""Language centring removes a language's shared offset and nothing a head needs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.models.language_means import MIN_TEXTS, LanguageMeans


def test_a_shared_language_offset_is_removed_and_rare_languages_fall_back(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    content = rng.normal(size=(MIN_TEXTS, 16)).astype(np.float32)
    german_offset = np.full(16, 3.0, dtype=np.float32)
    # The same requests in English and (shifted) German, plus a few Danish ones and one undetermined text.
    vectors = np.vstack([content, content + german_offset, content[:5] - german_offset, content[:1]])
    languages = ["en"] * MIN_TEXTS + ["de"] * MIN_TEXTS + ["da"] * 5 + ["und"]

    means = LanguageMeans.fit(vectors, languages)

    assert set(means.means) == {"en", "de"}  # 5 Danish texts are too few; "und" is no language
    assert means.counts == {"da": 5, "de": MIN_TEXTS, "en": MIN_TEXTS, "und": 1}
    english = means.centre(vectors[:MIN_TEXTS], ["en"] * MIN_TEXTS)
    german = means.centre(vectors[MIN_TEXTS : 2 * MIN_TEXTS], ["de"] * MIN_TEXTS)
    np.testing.assert_allclose(english, german, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(english, axis=1), 1.0, atol=1e-5)
    raw_cos = float(np.mean(np.sum(_unit(vectors[:MIN_TEXTS]) * _unit(vectors[MIN_TEXTS : 2 * MIN_TEXTS]), axis=1)))
    assert raw_cos < 0.9  # the offset did separate the translations before centring
    danish = means.centre(vectors[-6:-1], ["da"] * 5)
    np.testing.assert_allclose(danish, _unit(vectors[-6:-1] - means.fallback), atol=1e-5)

    means.save(tmp_path)
    loaded = LanguageMeans.load(tmp_path)
    assert loaded is not None and loaded.counts == means.counts
    np.testing.assert_allclose(loaded.centre(vectors, languages), means.centre(vectors, languages))
    assert LanguageMeans.load(tmp_path / "nothing-here") is None


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)
