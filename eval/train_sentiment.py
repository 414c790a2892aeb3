"""Train the shipped sentiment head and record its provenance and test accuracy.

Run from the repo root:  .venv/bin/python -m eval.train_sentiment
Writes engine/assets/sentiment-v1/ (head.joblib + meta.json) and
eval/results/sentiment.json. Training data: UMSAB tweets (en, de, es, fr; train
split) plus a balanced sample of SST-2 train sentences; tested on the UMSAB test
splits and the SST-2 GLUE dev set.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from sklearn.metrics import accuracy_score, f1_score

from engine.models.heads import fit_head
from engine.models.registry import ModelRegistry
from engine.settings import PACKAGE_DIR, Settings
from eval.datasets import UMSAB_LANGS, sst2, umsab
from eval.metrics import expected_calibration_error

SST2_SAMPLE = 4000
OUT = PACKAGE_DIR / "assets" / "sentiment-v1"
RESULTS = Path(__file__).parent / "results" / "sentiment.json"


def main() -> None:
    console = Console()
    encoder = ModelRegistry(Settings()).encoder
    texts: list[str] = []
    labels: list[str] = []
    for lang in UMSAB_LANGS:
        t, y = umsab(lang, "train")
        texts += t
        labels += y
    sst_t, sst_y = sst2("train")
    rng = random.Random(0)
    pick = rng.sample(range(len(sst_t)), SST2_SAMPLE)
    texts += [sst_t[i] for i in pick]
    labels += [sst_y[i] for i in pick]

    start = time.perf_counter()
    x = encoder.encode_queries(texts)
    encode_s = time.perf_counter() - start
    console.print(f"encoded {len(texts)} training texts in {encode_s:.0f}s")
    head = fit_head("sentiment", x, labels, texts, encoder.id, c=2.0)

    tests: dict[str, tuple[list[str], list[str]]] = {
        f"umsab-{lang}": umsab(lang, "test") for lang in UMSAB_LANGS
    }
    tests["sst2-dev"] = sst2("test")
    results: dict[str, dict[str, float]] = {}
    for name, (t, y) in tests.items():
        probs = head.predict_proba(encoder.encode_queries(t))
        labels_arr = np.asarray(head.labels)
        if name.startswith("sst2"):
            # Binary data: compare only the negative and positive columns.
            cols = [head.labels.index("negative"), head.labels.index("positive")]
            pred = labels_arr[cols][np.argmax(probs[:, cols], axis=1)]
        else:
            pred = labels_arr[np.argmax(probs, axis=1)]
        results[name] = {
            "n": len(y),
            "accuracy": round(float(accuracy_score(y, pred)), 4),
            "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
            "ece": round(expected_calibration_error(probs, y, head.labels), 4),
        }
        console.print(name, results[name])

    meta = dict(head.meta.__dict__)
    meta["metrics"] = {**head.meta.metrics, **{f"{k}_{m}": v for k, r in results.items() for m, v in r.items()}}
    meta["provenance"] = {
        "train": [f"umsab-tweet-sentiment/{UMSAB_LANGS[lang]}/train" for lang in UMSAB_LANGS]
        + [f"sst2/train.tsv (random sample of {SST2_SAMPLE}, seed 0)"],
        "sources": "cardiffnlp/xlm-t UMSAB (SemEval-17, SB-10K, InterTASS, DEFT), research terms; GLUE SST-2",
        "script": "eval/train_sentiment.py",
    }
    if OUT.exists():
        shutil.rmtree(OUT)
    head.save(OUT)
    (OUT / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=list))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"encoder": encoder.id, "train_size": len(texts), "tests": results}, indent=2))
    console.print(f"saved {OUT}")


if __name__ == "__main__":
    main()
