"""Topic transfer across languages (issue #22): heads trained on English requests triaging eight other languages.

Run from the repo root (full data, not part of CI; about 20 minutes on 2 cores):

    .venv/bin/python -m eval.xsid_transfer [--limit N] [--second-view use-m3]

xSID (shared/datasets/xsid, CC BY-SA 4.0): the same 16 intents in nine languages. The product path of
eval/product_path.py: ``sift train`` on the English ``valid`` split (300 requests, intent as topic), then
``sift triage-file`` on every language's ``test`` split, scored on ``topic.label`` (null counted wrong). Two runs:

- *centred* (the default, ``head_language_centring``), heads on e5 alone (``SIFT_HEAD_SECOND_VIEW=none``, the
  default; e5 ⊕ USE with ``--second-view``): ``sift train --unlabelled`` also gets every language's
  ``valid`` texts without their intents, standing in for a helpdesk's own recent tickets in each language; they
  only estimate each language's mean embedding (engine/models/language_means.py). No test text is read.
- *not centred*: ``SIFT_HEAD_LANGUAGE_CENTRING=false``, the heads as before.

``--second-view use-m3`` compares the heads' second view instead (``head_second_view``, engine/models/head_views.py):
*centred* (e5 alone) against *centred_use-m3* (``SIFT_HEAD_SECOND_VIEW=use-m3``), both centred; the
not-centred run is left out.

Baseline: scikit-learn's LogisticRegression on the raw embeddings, trained on the same English requests.
Writes eval/results/xsid_transfer.json (``--limit`` runs write eval/.cache/xsid_transfer.partial.json).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from eval.datasets import SHARED
from eval.product_path import Baseline, Workspace, accuracy, console, field_scores, sample, sift_env, write_jsonl

RESULTS = Path(__file__).parent / "results" / "xsid_transfer.json"
PARTIAL = Path(__file__).parent / ".cache" / "xsid_transfer.partial.json"
RESULTS_SECOND_VIEW = Path(__file__).parent / "results" / "xsid_transfer_second_view.json"
PARTIAL_SECOND_VIEW = Path(__file__).parent / "results" / "xsid_transfer_second_view.partial.json"
LANGUAGES = ("en", "de", "da", "nl", "it", "tr", "zh", "ar", "ja")
GOAL = 0.85


def requests(language: str, split: str) -> list[tuple[str, str]]:
    """(text, intent) of every request in one xSID file."""
    rows, text = [], ""
    for line in (SHARED / "xsid" / f"{language}.{split}.conll").read_text(encoding="utf-8").splitlines():
        if line.startswith("# text = "):
            text = line.removeprefix("# text = ").strip()
        elif line.startswith("# intent = "):
            rows.append((text, line.removeprefix("# intent = ").strip()))
    return rows


def run(ws: Workspace, name: str, limit: int, centred: bool, second_view: str = "none") -> dict[str, Any]:
    train = requests("en", "valid")
    tests = {lang: [requests(lang, "test")[i] for i in sample(len(requests(lang, "test")), limit)] for lang in LANGUAGES}
    args: list[str] = []
    if centred:
        unlabelled = [{"text": t} for lang in LANGUAGES for t, _ in requests(lang, "valid")]
        args = [f"--unlabelled={write_jsonl(unlabelled, ws.root / f'{name}-unlabelled.jsonl')}"]
    outputs, info = ws.product_run(
        name, [{"text": t, "topic": y} for t, y in train], {"text-column": "text", "topic-column": "topic"},
        {lang: [{"text": t} for t, _ in rows] for lang, rows in tests.items()},
        train_args=args,
        env={"SIFT_HEAD_LANGUAGE_CENTRING": "true" if centred else "false", "SIFT_HEAD_SECOND_VIEW": second_view},
    )
    return {
        "languages": {
            lang: field_scores(outputs[lang], [y for _, y in tests[lang]], "topic") for lang in LANGUAGES
        },
        **info,
    }


def baseline(base: Baseline, limit: int) -> dict[str, float]:
    train = requests("en", "valid")
    x_train = base.embed([t for t, _ in train])
    out = {}
    for lang in LANGUAGES:
        rows = requests(lang, "test")
        rows = [rows[i] for i in sample(len(rows), limit)]
        predicted = base.predict(x_train, [y for _, y in train], base.embed([t for t, _ in rows]))
        out[lang] = round(accuracy(predicted, [y for _, y in rows]), 4)
    return out


def main(
    limit: Annotated[int, typer.Option(help="Keep N test requests per language (0: all).")] = 0,
    keep: Annotated[bool, typer.Option(help="Keep the temporary data dirs, inputs, outputs and logs.")] = False,
    second_view: Annotated[
        str, typer.Option(help="Compare centred heads without and with this head_second_view (e.g. use-m3).")
    ] = "none",
) -> None:
    compare = second_view != "none"
    path = (PARTIAL_SECOND_VIEW if compare else PARTIAL) if limit else (RESULTS_SECOND_VIEW if compare else RESULTS)
    started = time.perf_counter()
    ws = Workspace(keep)
    os.environ.update({k: v for k, v in sift_env(ws.template).items() if k.startswith("SIFT_")})
    base = Baseline()
    report: dict[str, Any] = {
        "options": {"limit": limit, "second_view": second_view}, "encoder": base.encoder.id, "goal": GOAL
    }
    other = f"centred_{second_view}" if compare else "not_centred"
    try:
        report["centred"] = run(ws, "centred", limit, centred=True)
        report[other] = run(ws, other.replace("_", "-"), limit, centred=compare, second_view=second_view)
    finally:
        ws.close()
    report["baseline_logreg"] = baseline(base, limit)
    report["seconds"] = round(time.perf_counter() - started, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    table = Table("language", "centred", other.replace("_", " "), "logreg", "rejected (centred)",
                  f"rejected ({other.replace('_', ' ')})",
                  title=f"xSID topic accuracy, heads trained on English ({report['encoder']})")
    for lang in LANGUAGES:
        c, n = report["centred"]["languages"][lang], report[other]["languages"][lang]
        table.add_row(lang, f"{c['accuracy']:.3f}", f"{n['accuracy']:.3f}", f"{report['baseline_logreg'][lang]:.3f}",
                      f"{c['rejected']:.1%}", f"{n['rejected']:.1%}")
    console.print(table)
    console.print(f"total {report['seconds']:.0f}s; wrote {path}")


if __name__ == "__main__":
    typer.run(main)
