"""The heads' second view on xSID, in process: e5 alone, e5 ⊕ USE-m3, and e5 ⊕ USE-m3 without the neutral rule.

Run from the repo root (full test splits; about 10 minutes on 2 shared cores):

    .venv/bin/python -m eval.xsid_second_view [--cache DIR]

The setting of eval/xsid_transfer.py without its subprocesses: ``train_heads`` (what `sift train` runs) fits a
centred topic head on the 300 English ``valid`` requests, every language's ``valid`` texts unlabelled placing the
language means, under ``head_second_view`` "none" and "use-m3"; every language's ``test`` split is then scored
by the classify stage's own ``predict`` on the detected language (``topic.label``, null counted wrong). Each
text is encoded once per encoder. The third column is the use-m3 head with the rule that takes the USE half of a
ticket in a language USE does not know from its nearest training rows switched off (engine/models/head_views.py):
the measurement behind that rule.
Writes eval/results/xsid_second_view.json.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

import engine.classify.classifier as classifier_module
from engine.classify import TicketClassifier
from engine.models.head_views import UseM3Encoder, unsupported
from engine.models.registry import ModelRegistry
from engine.normalise import encoder_text
from engine.route import load_policy
from engine.settings import Settings
from engine.training.data import LabelledTickets
from engine.training.heads import detect_languages, train_heads
from eval.product_path import console
from eval.xsid_transfer import GOAL, LANGUAGES, requests

RESULTS = Path(__file__).parent / "results" / "xsid_second_view.json"


class Cached:
    """An encoder that answers from rows computed once (every setting reads the same texts)."""

    def __init__(self, encode: Callable[[list[str]], np.ndarray], texts: Sequence[str], cache: Path | None) -> None:
        self.encode = encode
        inputs = list(dict.fromkeys(encoder_text(t) for t in texts))
        if cache is not None and cache.is_file():
            with np.load(cache) as saved:
                self.rows = dict(zip(saved["texts"].tolist(), saved["rows"], strict=True))
        else:
            self.rows = dict(zip(inputs, np.asarray(encode(inputs)), strict=True))
            if cache is not None:
                np.savez(cache, texts=np.array(inputs), rows=np.vstack([self.rows[t] for t in inputs]))

    def __call__(self, texts: list[str]) -> np.ndarray:
        if missing := [t for t in dict.fromkeys(texts) if t not in self.rows]:  # the KB titles training adds
            self.rows.update(zip(missing, np.asarray(self.encode(missing)), strict=True))
        return np.vstack([self.rows[t] for t in texts])


def accuracy(classifier: TicketClassifier, e5: np.ndarray, second: np.ndarray | None, languages: list[str],
             truth: list[str]) -> dict[str, float]:
    topics, _ = classifier.predict(e5, languages, second)
    labels = [p.label for p in topics]
    return {
        "accuracy": round(float(np.mean([p == y for p, y in zip(labels, truth, strict=True)])), 4),
        "rejected": round(float(np.mean([p is None for p in labels])), 4),
    }


def main(
    cache: Annotated[
        Path | None, typer.Option(help="A folder keeping both encoders' rows between runs (they take most of the time).")
    ] = None,
) -> None:
    started = time.perf_counter()
    train = requests("en", "valid")
    unlabelled = [t for lang in LANGUAGES for t, _ in requests(lang, "valid")]
    tests = {lang: requests(lang, "test") for lang in LANGUAGES}
    every = [t for t, _ in train] + unlabelled + [t for rows in tests.values() for t, _ in rows]
    with tempfile.TemporaryDirectory() as root:
        base = ModelRegistry(Settings(data_dir=Path(root) / "none"))
        console.print(f"encoding {len(every)} texts with e5 and USE-m3")
        e5 = Cached(base.encoder.encode_queries, every, cache / "e5.npz" if cache else None)
        use = Cached(UseM3Encoder(threads=base.settings.blas_threads).encode, every, cache / "use.npz" if cache else None)
        test_languages = {lang: detect_languages(base, [t for t, _ in rows]) for lang, rows in tests.items()}
        data = LabelledTickets([t for t, _ in train], {"topic": [y for _, y in train]})
        report: dict[str, Any] = {"goal": GOAL, "detected_unsupported": {}}
        keep_rule = classifier_module.impute
        runs = [("none", "none", keep_rule), ("use-m3", "use-m3", keep_rule),
                ("use-m3 without the rule", "use-m3", lambda features, *_: features)]
        for name, view, rule in runs:
            registry = ModelRegistry(Settings(data_dir=Path(root) / view, head_second_view=view))
            registry.__dict__["encoder"] = base.encoder
            if registry.head("topic") is None:
                # xSID has no urgency: the urgency head, which predict also runs, learns the intents too.
                train_heads(registry, data, {"topic": "topic", "urgency": "topic"}, e5, unlabelled,
                            use if view != "none" else None)
            classifier = TicketClassifier(registry, load_policy(registry.settings.routing_file).thresholds.out_of_scope)
            classifier_module.impute = rule
            try:
                report[name] = {
                    lang: accuracy(
                        classifier, e5([encoder_text(t) for t, _ in rows]),
                        use([encoder_text(t) for t, _ in rows]) if view != "none" else None,
                        test_languages[lang], [y for _, y in rows],
                    )
                    for lang, rows in tests.items()
                }
            finally:
                classifier_module.impute = keep_rule
        for lang in LANGUAGES:
            report["detected_unsupported"][lang] = round(float(unsupported(test_languages[lang]).mean()), 4)
    report["seconds"] = round(time.perf_counter() - started, 1)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    names = [k for k in report if k not in ("goal", "detected_unsupported", "seconds")]
    table = Table("language", *names, "detected outside USE", title="xSID topic accuracy, centred heads on English")
    for lang in LANGUAGES:
        table.add_row(lang, *(f"{report[n][lang]['accuracy']:.3f}" for n in names),
                      f"{report['detected_unsupported'][lang]:.0%}")
    console.print(table)
    console.print(f"total {report['seconds']:.0f}s; wrote {RESULTS}")


if __name__ == "__main__":
    typer.run(main)
