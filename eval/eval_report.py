"""The evaluation report on a public set, made by the command users run: `sift train`, then `sift eval`.

    .venv/bin/python -m eval.eval_report [--train N] [--test N] [--seed S]

tickets-multilang v4 (subject + body; topic = queue, urgency = priority, language labelled) is split 80/20,
stratified by queue with eval.product_path's seeded split; ``--train``/``--test`` keep seeded samples of the
splits (0: all). `sift train` fits the topic and urgency heads on the train split in a fresh data directory whose
KB index `sift bootstrap` built, and `sift eval` triages the test split in-process: its JSON report goes to
eval/results/eval_report.json (the figures docs/results.md quotes), its HTML, rendered from the same figures, to
eval/.cache/eval_report.html.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from engine.report.evaluation import write
from eval.product_path import sample, sift, stratified_split, write_jsonl

RESULTS = Path(__file__).parent / "results" / "eval_report.json"
HTML = Path(__file__).parent / ".cache" / "eval_report.html"
COLUMNS = ["--text-column", "body", "--subject-column", "subject", "--topic-column", "queue",
           "--urgency-column", "priority"]

app = typer.Typer(add_completion=False)


@app.command()
def main(
    train: Annotated[int, typer.Option(min=0, help="Training rows kept (seeded sample; 0: the whole split).")] = 0,
    test: Annotated[int, typer.Option(min=0, help="Test rows kept (seeded sample; 0: the whole split).")] = 0,
    out: Annotated[Path, typer.Option(help="Where the JSON report goes.")] = RESULTS,
    html: Annotated[Path, typer.Option(help="Where the HTML report goes.")] = HTML,
) -> None:
    """Train on tickets-multilang's train split and write `sift eval`'s report of its test split."""
    from eval.datasets import tickets_multilang_labelled

    console = Console()
    rows = tickets_multilang_labelled()
    train_ix, test_ix = stratified_split([r["queue"] for r in rows], 0.2)
    if train:
        train_ix = [train_ix[i] for i in sample(len(train_ix), train)]
    if test:
        test_ix = [test_ix[i] for i in sample(len(test_ix), test)]
    root = Path(tempfile.mkdtemp(prefix="sift-eval-report-"))
    try:
        data_dir = root / "data"
        data_dir.mkdir()
        started = time.perf_counter()
        sift(["bootstrap"], data_dir, root / "bootstrap.log")
        console.print(f"sift train on {len(train_ix)} rows")
        train_file = write_jsonl([rows[i] for i in train_ix], root / "train.jsonl")
        sift(["train", str(train_file), *COLUMNS], data_dir, root / "train.log")
        test_file = write_jsonl([rows[i] for i in test_ix], root / "test.jsonl")
        console.print(f"sift eval on {len(test_ix)} rows")
        report_json = root / "report.json"
        sift(["eval", str(test_file), *COLUMNS, "--language-column", "language", "--out", str(report_json)],
             data_dir, root / "eval-json.log")
        report = json.loads(report_json.read_text(encoding="utf-8"))
        html.parent.mkdir(parents=True, exist_ok=True)
        write(report, html)  # the HTML `sift eval --out X.html` renders from these same figures
        report["protocol"] = {"set": "tickets-multilang v4", "train_rows": len(train_ix), "test_rows": len(test_ix),
                              "seconds": round(time.perf_counter() - started, 1)}
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {out} and {html}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    app()
