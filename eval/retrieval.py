"""Article retrieval on XQuAD: recall@1, recall@5 and MRR@10 per question language and mode.

Run from the repo root (full data, not part of CI):  .venv/bin/python -m eval.retrieval
Cross-lingual: the pool is the 240 English paragraphs as 240 KB articles, questions in
each language. Monolingual: the pool is the paragraphs in the question's own language.
Each mode (dense, lexical = BM25, hybrid = both fused as the service's ``fusion`` and
``lexical_weight`` say) runs through the product's own Retriever, configured by the
service's settings, on an index built by the product's own build_index, with the
service's default sentence windows (``window_sentences``, ``window_weight``; chosen by
eval/retrieval_windows.py); "sections" is dense search over whole sections only, as
before windows; "rerank" (English questions only: the only shipped cross-encoder reads
English) is dense followed by the cross-encoder over the top 10; "hybrid_e5" is hybrid with e5 alone (no
``retrieval_second_view``), to show what the second view adds. Each mode also records its
mean time per question (the whole Retriever.run: search, scoring, snippets, answer
confidence, re-ranking; the encoder is not included) and each pool its number of vectors.
Writes eval/results/retrieval.json. For a quicker look: --lang ar (repeatable), --no-rerank, --out PATH.

``--second-view-weights 0,0.1,0.2,0.3`` sweeps ``retrieval_second_view_weight`` in hybrid mode, cross-lingual:
recall@1 on the questions of the even-numbered Wikipedia articles (validation: the weight is chosen there) and
of the odd ones (test), per language.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from engine.kb.articles import Article
from engine.models.registry import ModelRegistry
from engine.report.metrics import ranking
from engine.retrieve import Retriever, build_index
from engine.settings import Settings
from eval.cache import CachedEncoder, CachedSecondView, encode_cached
from eval.datasets import XQUAD_LANGS, xquad, xquad_articles

RESULTS = Path(__file__).parent / "results" / "retrieval.json"
MODES = ("dense", "sections", "lexical", "hybrid", "hybrid_e5")
RERANKER = "cross-encoder-en"
RERANK_LANGS = ("en",)


def pool_articles(paragraphs: list[str], language: str) -> list[Article]:
    return [
        Article(
            id=f"p{i:03d}", title="", language=language, product="xquad", tags=(), updated="2020-01-01",
            audience="public", topic=None, translation_of=None, path="", body=text,
        )
        for i, text in enumerate(paragraphs)
    ]


def metrics(ranked: list[list[str]], gold: list[str]) -> dict[str, float]:
    """recall@1, recall@5 and MRR@10: the measure `sift eval` reports per language."""
    return ranking(ranked, gold)


def rank_pool(registry: ModelRegistry, pool: list[Article], questions: list[tuple[str, int]], lang: str,
              root: Path, modes: tuple[str, ...] = MODES,
              reranking: ModelRegistry | None = None) -> tuple[dict[str, tuple[list[list[str]], float]], list[str], dict[str, int]]:
    """Each mode's ranked article ids per question and its ms per question; the gold ids; the pool's vectors.

    ``reranking`` (a registry with ``rerank`` on) adds the "rerank" mode.
    """
    settings = registry.settings
    view = registry.retrieval_second_view
    second = CachedSecondView(view) if view is not None else None
    report = build_index(
        CachedEncoder(registry.encoder), pool, root, window_sentences=settings.window_sentences, second=second
    )
    texts = [q for q, _ in questions]
    vectors = encode_cached(registry.encoder, texts)
    second_vectors = second.encode(texts) if second is not None else None
    ranked: dict[str, tuple[list[list[str]], float]] = {}
    for mode in (*modes, "rerank") if reranking is not None else modes:
        options: dict[str, object] = {"window_weight": 0.0 if mode == "sections" else settings.window_weight}
        if mode == "hybrid_e5":
            options["second_view_weight"] = 0.0
        elif mode.startswith("hybrid@"):
            options["second_view_weight"] = float(mode.removeprefix("hybrid@"))
        retriever = Retriever.from_settings(
            reranking if mode == "rerank" and reranking is not None else registry,
            root,
            mode="dense" if mode in ("sections", "rerank") else "hybrid" if mode.startswith("hybrid") else mode,
            rerank_top_n=10,
            **options,
        )
        retriever.warm_up()
        start = time.perf_counter()
        hits = retriever.run(vectors, [lang] * len(texts), 10, texts=texts, second_queries=second_vectors)
        ms = 1000 * (time.perf_counter() - start) / len(texts)
        ranked[mode] = ([[h.id for h in row] for row in hits], ms)
    gold = [f"p{i:03d}" for _, i in questions]
    return ranked, gold, {"sections": report.chunks, "windows": report.windows}


def evaluate_pool(registry: ModelRegistry, pool: list[Article], questions: list[tuple[str, int]], lang: str,
                  root: Path, modes: tuple[str, ...] = MODES,
                  reranking: ModelRegistry | None = None) -> dict[str, dict[str, float]]:
    """``reranking`` (a registry with ``rerank`` on) adds the "rerank" mode."""
    ranked, gold, vectors = rank_pool(registry, pool, questions, lang, root, modes, reranking)
    out: dict[str, dict[str, float]] = {
        mode: {**metrics(ids, gold), "ms_per_query": round(ms, 2)} for mode, (ids, ms) in ranked.items()
    }
    out["vectors"] = vectors
    return out


def sweep_second_view(registry: ModelRegistry, weights: list[float], langs: list[str], root: Path) -> dict[str, object]:
    """Cross-lingual hybrid recall@1 per weight and language, on validation (even articles) and test (odd)."""
    english, _ = xquad("en")
    article_of = xquad_articles()
    modes = tuple(f"hybrid@{w}" for w in weights)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for lang in langs:
        _, questions = xquad(lang)
        ranked, gold, _ = rank_pool(registry, pool_articles(english, "en"), questions, lang, root / f"s-{lang}", modes)
        split = ["validation" if article_of[i] % 2 == 0 else "test" for _, i in questions]
        out[lang] = {}
        for mode, (ids, _) in ranked.items():
            out[lang][mode.removeprefix("hybrid@")] = {
                part: round(sum(r[:1] == [g] for r, g, p in zip(ids, gold, split, strict=True) if p == part)
                            / split.count(part), 4)
                for part in ("validation", "test")
            }
    mean = {str(w): round(sum(out[lang][str(w)]["validation"] for lang in langs) / len(langs), 4) for w in weights}
    return {"by_language": out, "validation_mean": mean, "best_on_validation": max(mean, key=lambda w: mean[w])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lang", action="append", choices=XQUAD_LANGS, help="repeatable; default: all")
    parser.add_argument("--no-rerank", action="store_true", help="skip the cross-encoder mode (the slow one)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--second-view-weights", help="comma-separated weights to sweep (writes the sweep alone)")
    args = parser.parse_args()
    console = Console()
    registry = ModelRegistry(Settings())
    if args.second_view_weights:
        weights = [float(w) for w in args.second_view_weights.split(",")]
        with tempfile.TemporaryDirectory() as tmp:
            sweep = sweep_second_view(registry, weights, args.lang or list(XQUAD_LANGS), Path(tmp))
        console.print_json(data=sweep)
        out = args.out if args.out != RESULTS else RESULTS.with_name("retrieval_second_view_weight.json")
        out.write_text(json.dumps({"encoder": registry.encoder.id, **sweep}, indent=2))
        console.print(f"wrote {out}")
        return
    reranking = ModelRegistry(registry.settings.model_copy(update={"rerank": RERANKER}))
    english, _ = xquad("en")
    results: dict[str, dict[str, dict[str, dict[str, float]]]] = {"cross_lingual": {}, "monolingual": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for lang in args.lang or XQUAD_LANGS:
            paragraphs, questions = xquad(lang)
            rerank = reranking if lang in RERANK_LANGS and not args.no_rerank else None
            results["cross_lingual"][lang] = evaluate_pool(
                registry, pool_articles(english, "en"), questions, lang, Path(tmp) / f"x-{lang}", reranking=rerank
            )
            results["monolingual"][lang] = evaluate_pool(
                registry, pool_articles(paragraphs, lang), questions, lang, Path(tmp) / f"m-{lang}", reranking=rerank
            )
            console.print(lang, results["cross_lingual"][lang]["dense"], results["monolingual"][lang]["dense"])
    for setting, by_lang in results.items():
        table = Table(title=f"XQuAD {setting} (240 paragraphs, 1190 questions per language)")
        table.add_column("lang")
        for mode in (*MODES, "rerank"):
            table.add_column(f"{mode} r@1 / r@5 / mrr@10")
        for lang, by_mode in by_lang.items():
            table.add_row(lang, *[" / ".join(f"{by_mode[m][k]:.3f}" for k in ("recall@1", "recall@5", "mrr@10"))
                                  if m in by_mode else "-" for m in (*MODES, "rerank")])
        console.print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    s = registry.settings
    used = {"window_sentences": s.window_sentences, "window_weight": s.window_weight, "fusion": s.fusion,
            "lexical_weight": s.lexical_weight, "second_view": s.retrieval_second_view,
            "second_view_weight": s.retrieval_second_view_weight}
    args.out.write_text(json.dumps({"encoder": registry.encoder.id, **used, **results}, indent=2))
    console.print(f"wrote {args.out}")


if __name__ == "__main__":
    main()


