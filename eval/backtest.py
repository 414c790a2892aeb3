"""`sift backtest` on real public tickets: what Sift would have automated, how often wrongly, and what it deflects.

Run from the repo root (full data, not part of CI; about 30 minutes on 2 busy shared cores):

    .venv/bin/python -m eval.backtest [--limit N] [--sets tickets,endava] [--keep]

The product path end to end, as a helpdesk would run it: `sift bootstrap` in a fresh data directory (the demo KB's
index), `sift train` on the train split of a labelled public set, then ``python -m engine.cli backtest`` (the
CLI's own code, as a subprocess) on the held-out split, whose recorded queue is the outcome Sift is scored
against. The helpdesk's policy is the shipped one with its ``queues`` mapping each trained topic to the queue of
the same name (a team routing by the topic head's labels), and its demo-topic rules (``per_topic``,
``always_handoff_topics``) removed, since these sets have no such topics.

Two replays per set: the policy as shipped, and with ``no_confident_article`` replayed as not handing off (the
demo KB answers smart-home questions, not these sets' IT and SaaS tickets, so that reason measures the KB, not
the tickets). Neither set has dates or channels, so the month and channel breakdowns say "no dates" / "unknown"
rather than inventing them.

- tickets-multilang v4 (subject + body; topic = queue, urgency = priority; en + de): a seeded stratified 80/20
  split by queue (``eval.product_path.stratified_split``), per queue and language.
- Endava (title + body; topic = category): the same split by category.

Writes eval/results/backtest.json (a --limit or partial run writes eval/.cache/backtest.partial.json).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from engine.settings import REPO_ROOT
from eval.product_path import SEED, Workspace, git_commit, sample, sift, stratified_split, write_jsonl

RESULTS = Path(__file__).parent / "results" / "backtest.json"
PARTIAL = Path(__file__).parent / ".cache" / "backtest.partial.json"
SETS = ("tickets", "endava")
KB_REASON = "no_confident_article"
TRAIN_PER_TEST = 5
console = Console(width=None if sys.stdout.isatty() else 150)


def helpdesk_policy(topics: list[str], path: Path) -> Path:
    """The shipped policy routing each topic to the queue of its name, the demo-topic rules removed."""
    policy = yaml.safe_load((REPO_ROOT / "engine" / "route" / "routing.yaml").read_text(encoding="utf-8"))
    policy["queues"] = {t: t for t in topics}
    policy["thresholds"]["per_topic"] = {}
    policy["always_handoff_topics"] = []
    path.write_text(yaml.safe_dump(policy, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """What docs/results.md quotes: overall, per queue and language, and the handoff reasons."""
    keep = ("tickets", "automated", "judged", "wrong", "deflected", "risk_handoffs", "automation_share", "error_rate",
            "deflection_estimate", "risk_share", "risk_kinds")
    return {
        "tickets": report["tickets"],
        "overall": {k: report["overall"][k] for k in keep},
        "by": {d: [{"key": g["key"], **{k: g[k] for k in keep}} for g in groups] for d, groups in report["by"].items()},
        "handoff_reasons": report["handoff_reasons"],
        "dated": report["source"]["dated"],
        "plots": report["plots"],
        "models": report["models"],
    }


def run_set(
    ws: Workspace, name: str, rows: list[dict[str, str]], text: str, subject: str, label: str,
    language: str | None, limit: int,
) -> dict[str, Any]:
    """Train on 80% of ``rows`` (topic = ``label``), backtest the other 20% under both replays."""
    train, test = stratified_split([r[label] for r in rows], 0.2)
    train = [train[i] for i in sample(len(train), limit * TRAIN_PER_TEST)]
    test = [test[i] for i in sample(len(test), limit)]
    folder = ws.root / name
    data_dir = folder / "data"
    data_dir.mkdir(parents=True)
    shutil.copytree(ws.template / "index", data_dir / "index")
    columns = [f"--text-column={text}", f"--subject-column={subject}", f"--topic-column={label}"]
    start = time.perf_counter()
    console.print(f"[bold]{name}[/bold]: sift train on {len(train)} rows")
    sift(["train", str(write_jsonl([rows[i] for i in train], folder / "train.jsonl")), *columns], data_dir,
         folder / "train.log")
    out: dict[str, Any] = {"train_rows": len(train), "test_rows": len(test),
                           "train_seconds": round(time.perf_counter() - start, 1)}
    topics = sorted({rows[i][label] for i in train})
    policy = helpdesk_policy(topics, folder / "policy.yaml")
    test_file = write_jsonl([rows[i] for i in test], folder / "test.jsonl")
    args = ["backtest", str(test_file), f"--text-column={text}", f"--subject-column={subject}",
            f"--queue-column={label}", "--policy", str(policy)]
    if language:
        args.append(f"--language-column={language}")
    for replay, extra in (("shipped_policy", []), ("kb_reason_ignored", ["--ignore-reason", KB_REASON])):
        start = time.perf_counter()
        console.print(f"[bold]{name}[/bold]: sift backtest, {replay.replace('_', ' ')}, {len(test)} tickets")
        report_path = folder / f"{replay}.json"
        sift([*args, *extra, "--out", str(report_path)], data_dir, folder / f"{replay}.log")
        report = json.loads(report_path.read_text(encoding="utf-8"))
        out[replay] = {"command": "sift " + " ".join(a if a.startswith("-") else Path(a).name for a in [*args, *extra]),
                       "seconds": round(time.perf_counter() - start, 1), **summary(report)}
    return out


def run_tickets(ws: Workspace, limit: int) -> dict[str, Any]:
    from eval.datasets import tickets_multilang_labelled

    rows = tickets_multilang_labelled()
    return run_set(ws, "tickets", rows, "body", "subject", "queue", "language", limit)


def run_endava(ws: Workspace, limit: int) -> dict[str, Any]:
    from eval.datasets import endava

    rows = [r for r in endava() if r["body"]]
    return run_set(ws, "endava", rows, "body", "title", "category", None, limit)


RUNNERS = {"tickets": run_tickets, "endava": run_endava}


def print_table(report: dict[str, Any]) -> None:
    table = Table(title="sift backtest on held-out public tickets")
    for column in ("set", "replay", "tickets", "automated", "error when automated", "deflection", "risk handoffs"):
        table.add_column(column, justify="left" if column in ("set", "replay") else "right")

    def pct(v: float | None) -> str:
        return "-" if v is None else f"{v:.1%}"

    for name, result in report["sets"].items():
        for replay in ("shipped_policy", "kb_reason_ignored"):
            o = result[replay]["overall"]
            table.add_row(name, replay, str(o["tickets"]), pct(o["automation_share"]), pct(o["error_rate"]),
                          pct(o["deflection_estimate"]), pct(o["risk_share"]))
    console.print(table)


def main(
    limit: Annotated[int, typer.Option(help="Keep N test rows and 5N training rows per set (0: all).")] = 0,
    sets: Annotated[str, typer.Option(help="Comma-separated data sets: " + ", ".join(SETS))] = ",".join(SETS),
    out: Annotated[Path | None, typer.Option(help="Where to write the figures (default: the docstring's).")] = None,
    keep: Annotated[bool, typer.Option(help="Keep the temporary data dirs, inputs, reports and logs.")] = False,
) -> None:
    chosen = [s.strip() for s in sets.split(",") if s.strip()]
    if unknown := sorted(set(chosen) - set(SETS)):
        raise typer.BadParameter(f"unknown sets {unknown}; choose from {', '.join(SETS)}")
    path = out or (RESULTS if not limit and set(chosen) == set(SETS) else PARTIAL)
    started = time.perf_counter()
    ws = Workspace(keep)
    report: dict[str, Any] = {
        "options": {"limit": limit, "sets": chosen, "seed": SEED},
        "git": git_commit(),
        "cpu_count": os.cpu_count(),
        "bootstrap_seconds": ws.bootstrap_seconds,
        "workspace": str(ws.root) if keep else None,
        "sets": {},
        "seconds": {},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        for name in chosen:
            start = time.perf_counter()
            report["sets"][name] = RUNNERS[name](ws, limit)
            report["seconds"][name] = round(time.perf_counter() - start, 1)
            report["seconds"]["total"] = round(time.perf_counter() - started, 1)
            path.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    finally:
        ws.close()
    print_table(report)
    console.print(f"wrote {path}")


if __name__ == "__main__":
    typer.run(main)
