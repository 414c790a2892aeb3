"""Choose hybrid retrieval's fusion and BM25's weight in it on XQuAD without touching its test articles.

Run from the repo root (full data, not part of CI):  .venv/bin/python -m eval.fusion_weight

Hybrid retrieval fuses the dense and the BM25 scores of each candidate article (``fusion``: a convex
combination of min-max-normalised scores, or reciprocal rank fusion), dense with weight 1 and BM25 with
``lexical_weight``. BM25 only scores articles in the question's language, so both matter where the KB has
them: the monolingual pools of ``eval.retrieval`` (each language's 240 paragraphs as its KB). The 48
Wikipedia articles are split as ``eval.train_answer_confidence`` splits them; the fusion and weight with the
best mean MRR@10 over the seven languages on the 32 fit and calibration articles' questions are chosen, and
the 16 test articles' questions are only reported. Writes eval/results/fusion_weight.json.
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

RESULTS = Path(__file__).parent / "results" / "fusion_weight.json"
CANDIDATES = (("rrf", 0.25), ("rrf", 0.5), ("rrf", 1.0), ("convex", 0.1), ("convex", 0.25), ("convex", 0.5),
              ("convex", 1.0))


def main() -> None:
    console = Console()
    registry = ModelRegistry(Settings())
    settings = registry.settings
    split, _ = split_articles()
    article_of = xquad_articles()
    scores: dict[str, dict[str, dict[str, dict[str, float]]]] = {"choose": {}, "test": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for lang in XQUAD_LANGS:
            paragraphs, pairs = xquad(lang)
            root = Path(tmp) / lang
            build_index(CachedEncoder(registry.encoder), pool_articles(paragraphs, lang), root,
                        window_sentences=settings.window_sentences)
            for part in scores:
                chosen = [(q, i) for q, i in pairs if (split[article_of[i]] == "test") == (part == "test")]
                texts = [q for q, _ in chosen]
                vectors = encode_cached(registry.encoder, texts)
                gold = [f"p{i:03d}" for _, i in chosen]
                for fusion, weight in (("dense", 0.0), *CANDIDATES):
                    options = {"mode": "dense"} if fusion == "dense" else {
                        "mode": "hybrid", "fusion": fusion, "weights": {"dense": 1.0, "lexical": weight}}
                    retriever = Retriever.from_settings(registry, root, **options)
                    hits = retriever.run(vectors, [lang] * len(texts), 10, texts=texts)
                    name = "dense" if fusion == "dense" else f"{fusion}, lexical weight {weight}"
                    scores[part].setdefault(name, {})[lang] = metrics([[h.id for h in row] for row in hits], gold)
            console.print(lang, {n: s[lang]["mrr@10"] for n, s in scores["choose"].items()})
    summary = {
        part: {
            name: {k: round(float(np.mean([by_lang[lang][k] for lang in XQUAD_LANGS])), 4)
                   for k in ("recall@1", "recall@5", "mrr@10")}
            for name, by_lang in by_name.items()
        }
        for part, by_name in scores.items()
    }
    best = max((n for n in summary["choose"] if n != "dense"), key=lambda n: summary["choose"][n]["mrr@10"])
    for part in summary:
        console.print(part, summary[part])
    RESULTS.write_text(json.dumps({"encoder": registry.encoder.id, "chosen": best, "mean": summary,
                                   "per_language": scores}, indent=2))
    console.print(f"chose {best}; wrote {RESULTS}")


if __name__ == "__main__":
    main()
