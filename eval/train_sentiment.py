"""Train the shipped sentiment head and record its provenance and test accuracy.

Run from the repo root:  .venv/bin/python -m eval.train_sentiment
Writes engine/assets/sentiment-v1/ (head.joblib + meta.json) and
eval/results/sentiment.json. Training data: UMSAB tweets (en, de, es, fr; train
and validation splits) and 999 calm customer-service requests as neutral examples
(from the train splits of BANKING77 and CLINC150 and one half of Bitext; no
exclamation marks, swearing or complaints: an angry request is not neutral). Tested on
the UMSAB test splits, on the SST-2 GLUE dev set (binary: only the negative and
positive columns compared), and on the requests it did not see (BANKING77 and
CLINC150 test, Bitext's other half): the share read as negative.

Why the requests: a head trained on tweets alone read 44% of BANKING77's test
queries and 19% of Bitext's as negative ("How do I cancel my subscription?" got an
apology in the draft), because in tweets a problem is a complaint. With the requests
as neutral, 8% and 2% are, and UMSAB accuracy holds (eval/results/sentiment.json).
Twice as many requests halve those shares again but read "This is the third time I
write! Your service is a joke" as neutral.

SST-2 is not mixed into training: in an experiment (4k or 12k SST-2 sentences
added) it raised SST-2 accuracy by 3-4 points but tripled the UMSAB calibration
error, because its binary labels shift the class prior away from neutral.
Accuracy is reported both for the plain argmax and for the valence rule the
service uses (see engine/sentiment/head.py).

The lexicon fusion beside the head (fusion.json: how word lists of languages the head
was not trained on nudge it) is fitted by eval/sentiment_lexicons.py --ship on heads
trained by this recipe, so a retrain keeps it.
"""

from __future__ import annotations

import json
import random
import re
import shutil
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from sklearn.metrics import accuracy_score, f1_score

from engine.models.registry import ModelRegistry
from engine.models.sentiment_lexicon import FUSION_FILE
from engine.sentiment.head import VALENCE_MARGIN, valence_label
from engine.settings import PACKAGE_DIR, Settings
from engine.training.fit import fit_head
from eval.cache import encode_cached
from eval.datasets import UMSAB_LANGS, banking77, bitext_rows, clinc150, in_half, sst2, umsab
from eval.metrics import expected_calibration_error

OUT = PACKAGE_DIR / "assets" / "sentiment-v1"
NEUTRAL_REQUESTS = 999
# Requests worded in anger are no neutral examples, whatever their intent.
ANGRY = re.compile(
    r"!|\b(?:damn|goddamn|fucking|shit|ridiculous|joke|angry|furious|terrible|worst|awful|unacceptable|"
    r"disappointed|useless)\b",
    re.IGNORECASE,
)
SEED = 0


def requests(part: str) -> dict[str, list[str]]:
    """Customer-service requests by source: ``train`` the ones to learn from, ``test`` the held-out ones."""
    rows = bitext_rows()
    if part == "train":
        calm = {
            "banking77": banking77("train")[0],
            "clinc150": [t for t, _ in clinc150("train")],
            "bitext": [
                r["instruction"]
                for r in rows
                if in_half(r["instruction"], 0) and "W" not in r["tags"] and r["intent"] != "complaint"
            ],
        }
        return {name: [t for t in texts if not ANGRY.search(t)] for name, texts in calm.items()}
    return {
        "banking77": banking77("test")[0],
        "clinc150": [t for t, _ in clinc150("test")],
        "bitext": [r["instruction"] for r in rows if in_half(r["instruction"], 1)],
    }


RESULTS = Path(__file__).parent / "results" / "sentiment.json"


def training_texts() -> tuple[list[str], list[str], list[str]]:
    """(texts, labels, languages) the shipped head trains on: UMSAB train+val of every language, then the neutral
    requests (language "req"); ``eval/sentiment_lexicons.py`` reads the same rows, so their embeddings are cached once."""
    texts: list[str] = []
    labels: list[str] = []
    langs: list[str] = []
    for lang in UMSAB_LANGS:
        for split in ("train", "val"):
            t, y = umsab(lang, split)
            texts += t
            labels += y
            langs += [lang] * len(t)
    rng = random.Random(SEED)
    for pool in requests("train").values():
        chosen = rng.sample(pool, NEUTRAL_REQUESTS // 3)
        texts += chosen
        labels += ["neutral"] * len(chosen)
        langs += ["req"] * len(chosen)
    return texts, labels, langs


def main() -> None:
    console = Console()
    encoder = ModelRegistry(Settings()).encoder
    texts, labels, _ = training_texts()

    start = time.perf_counter()
    x = encode_cached(encoder, texts)
    console.print(f"encoded {len(texts)} training texts in {time.perf_counter() - start:.0f}s")
    head = fit_head("sentiment", x, labels, texts, encoder.id, kind="logreg", c=2.0, keep_support=False)

    tests: dict[str, tuple[list[str], list[str]]] = {f"umsab-{lang}": umsab(lang, "test") for lang in UMSAB_LANGS}
    tests["sst2-dev"] = sst2("test")
    results: dict[str, dict[str, float]] = {}
    for name, (t, y) in tests.items():
        probs = head.predict_proba(encode_cached(encoder, t))
        labels_arr = np.asarray(head.labels)
        if name.startswith("sst2"):
            # Binary data: compare only the negative and positive columns.
            cols = [head.labels.index("negative"), head.labels.index("positive")]
            pred = labels_arr[cols][np.argmax(probs[:, cols], axis=1)]
            valence = pred
        else:
            pred = labels_arr[np.argmax(probs, axis=1)]
            valence = np.asarray([valence_label(row, head.labels, VALENCE_MARGIN)[0] for row in probs])
        results[name] = {
            "n": len(y),
            "accuracy": round(float(accuracy_score(y, pred)), 4),
            "macro_f1": round(float(f1_score(y, pred, average="macro")), 4),
            "valence_accuracy": round(float(accuracy_score(y, valence)), 4),
            "ece": round(expected_calibration_error(probs, y, head.labels), 4),
        }
        console.print(name, results[name])

    for name, held_out in requests("test").items():
        probs = head.predict_proba(encode_cached(encoder, held_out))
        read = [valence_label(row, head.labels, VALENCE_MARGIN)[0] for row in probs]
        results[f"requests-{name}"] = {"n": len(read), "negative_rate": round(read.count("negative") / len(read), 4)}
        console.print(f"requests-{name}", results[f"requests-{name}"])

    meta = dict(head.meta.__dict__)
    meta["metrics"] = {**head.meta.metrics, **{f"{k}_{m}": v for k, r in results.items() for m, v in r.items()}}
    meta["provenance"] = {
        "train": [f"umsab-tweet-sentiment/{UMSAB_LANGS[lang]}/{{train,val}}" for lang in UMSAB_LANGS]
        + [
            f"{NEUTRAL_REQUESTS // 3} calm requests (neutral) each of banking77/train.csv, clinc150 train, bitext (half 0)"
        ],
        "test": [f"umsab-tweet-sentiment/{UMSAB_LANGS[lang]}/test" for lang in UMSAB_LANGS] + ["sst2/test.tsv"],
        "sources": "cardiffnlp/xlm-t UMSAB (SemEval-17, SB-10K, InterTASS, DEFT), research terms; GLUE SST-2; "
        "BANKING77 (CC BY 4.0), CLINC150 (CC BY 3.0), Bitext customer support (CDLA-Sharing-1.0)",
        "valence_margin": VALENCE_MARGIN,
        "script": "eval/train_sentiment.py",
    }
    fusion = OUT / FUSION_FILE
    kept = fusion.read_bytes() if fusion.is_file() else None
    if OUT.exists():
        shutil.rmtree(OUT)
    head.save(OUT)
    (OUT / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=list))
    if kept is not None:
        fusion.write_bytes(kept)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"encoder": encoder.id, "train_size": len(texts), "tests": results}, indent=2))
    console.print(f"saved {OUT}")


if __name__ == "__main__":
    main()
