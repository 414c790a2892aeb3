"""Choose the sentence-window length and weight of dense retrieval on XQuAD without touching its test articles.

Run from the repo root (full data, not part of CI):  .venv/bin/python -m eval.retrieval_windows

Cross-lingual pool as in ``eval.retrieval`` (the 240 English paragraphs as KB articles, questions in all
seven languages), through the product's ``build_index`` and ``Retriever``. The 48 Wikipedia articles are
split as ``eval.train_answer_confidence`` splits them: the window length (sentences) and weight with the
best mean recall@1 over the seven languages on the questions of the 32 fit and calibration articles are
chosen; the 16 test articles' questions are only reported, for the choice and for sections alone.
Writes eval/results/retrieval_windows.json; the chosen pair is what ``window_sentences`` and
``window_weight`` default to.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console

from engine.models.registry import ModelRegistry
from engine.retrieve import Retriever, build_index
from engine.settings import Settings
from eval.cache import CachedEncoder, encode_cached
from eval.datasets import XQUAD_LANGS, xquad, xquad_articles
from eval.retrieval import metrics, pool_articles
from eval.train_answer_confidence import split_articles

RESULTS = Path(__file__).parent / "results" / "retrieval_windows.json"
SENTENCES = (1, 2, 3)
WEIGHTS = (0.3, 0.4, 0.5, 0.6)


def recall(retriever: Retriever, questions: dict[str, tuple[np.ndarray, list[str], list[str]]]) -> dict:
    """Recall and MRR per question language for one retriever."""
    out = {}
    for lang, (vectors, texts, gold) in questions.items():
        hits = retriever.run(vectors, [lang] * len(texts), 10, texts=texts)
        out[lang] = metrics([[h.id for h in row] for row in hits], gold)
    out["mean_recall@1"] = round(float(np.mean([out[lang]["recall@1"] for lang in XQUAD_LANGS])), 4)
    return out


def main() -> None:
    console = Console()
    registry = ModelRegistry(Settings())
    english, _ = xquad("en")
    split, _ = split_articles()
    article_of = xquad_articles()
    questions: dict[str, dict[str, tuple[np.ndarray, list[str], list[str]]]] = {"choose": {}, "test": {}}
    for lang in XQUAD_LANGS:
        _, pairs = xquad(lang)
        for part in questions:
            chosen = [(q, i) for q, i in pairs if (split[article_of[i]] == "test") == (part == "test")]
            texts = [q for q, _ in chosen]
            questions[part][lang] = (encode_cached(registry.encoder, texts), texts, [f"p{i:03d}" for _, i in chosen])
    sweep: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for sentences in SENTENCES:
            root = Path(tmp) / f"w{sentences}"
            report = build_index(CachedEncoder(registry.encoder), pool_articles(english, "en"), root,
                                 window_sentences=sentences)
            for weight in (0.0, *WEIGHTS) if sentences == SENTENCES[0] else WEIGHTS:
                name = "sections" if weight == 0.0 else f"{sentences} sentences, weight {weight}"
                retriever = Retriever(registry, root, mode="dense", window_weight=weight)
                sweep[name] = {"window_sentences": sentences if weight else 0, "window_weight": weight,
                               "vectors": report.chunks + (report.windows if weight else 0),
                               "choose": recall(retriever, questions["choose"])}
                console.print(name, sweep[name]["choose"]["mean_recall@1"])
        best = max((n for n in sweep if n != "sections"), key=lambda n: sweep[n]["choose"]["mean_recall@1"])
        for name in ("sections", best):
            sentences = sweep[name]["window_sentences"] or SENTENCES[0]
            retriever = Retriever(registry, Path(tmp) / f"w{sentences}", mode="dense",
                                  window_weight=sweep[name]["window_weight"])
            sweep[name]["test"] = recall(retriever, questions["test"])
            console.print(name, "test", sweep[name]["test"])
    RESULTS.write_text(json.dumps({"encoder": registry.encoder.id, "chosen": best, "sweep": sweep}, indent=2))
    console.print(f"chose {best}; wrote {RESULTS}")


if __name__ == "__main__":
    main()
