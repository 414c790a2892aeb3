"""eval/draft_usefulness.py on a handful of rows: the data sets read, the figures in range."""

from __future__ import annotations

import pytest

from engine.pipeline import Pipeline
from eval.draft_usefulness import bitext_cases, multilang_cases, score
from tests.conftest import require_datasets


@pytest.mark.slow
def test_figures_come_out_per_language_and_in_range(pipeline: Pipeline) -> None:
    require_datasets()
    cases = multilang_cases(per_language=2) + bitext_cases(limit=2)
    assert {c.language for c in cases} == {"en", "de"} and all(c.reply for c in cases)
    report = score(pipeline, cases, "smoke")
    assert set(report) == {"de", "en"}
    for row in report.values():
        assert isinstance(row, dict)
        assert -1 <= row["draft_similarity"] <= 1 and -1 <= row["baseline_similarity"] <= 1
        assert 0 <= row["in_customer_language_share"] <= 1 and 0 <= row["in_detected_language_share"] <= 1
