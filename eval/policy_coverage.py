"""The shipped routing policy measured: selective prediction on CLINC150 and human-request detection on Bitext.

Run from the repo root (full data, not part of CI):

    .venv/bin/python -m eval.policy_coverage [--parts clinc150,human] [--limit N]

CLINC150 (data_full): topic heads are trained the way `sift train` trains them (``train_heads``, the train split
plus ``oos_train`` labelled ``out_of_scope``) in a fresh temporary data directory holding the demo KB's index;
the in-scope and out-of-scope test tickets then run through the real pipeline once (``engine.route.simulate``)
and the shipped policy (engine/route/routing.yaml) decides each one. A ticket is *automated* when no handoff
reason fires except ``no_confident_article``: CLINC150's travel, banking and small-talk questions are not what
the demo KB answers, so that reason measures the KB, not the policy. It is *right* when its topic is the true
in-scope intent (an out-of-scope ticket automated under any topic is wrong). The risk-coverage curve sweeps the
topic-confidence threshold; the goal is 97% right among the automated at 80% coverage.

Human requests (Bitext customer support, English only: the one public set with such an intent): the risk
stage as the pipeline runs it (``eval.risk.detect``) on every ``contact_human_agent`` request (recall of
``human_requested``, goal >= 0.95) and on every other intent (false positives, goal <= 2%), leaving out the
rows ``eval/train_risk.py`` trained the risk head on; then, across languages, the same two rates on Sift's
held-out risk lines in eight languages (eval/data/risk/test*.jsonl). ``contact_customer_service`` ("how do I reach customer
service") is reported apart: it asks for contact details, not for a person now, and the head was trained on
neither side of it.

Writes eval/results/policy_coverage.json (a --limit or partial run writes eval/.cache/policy_coverage.partial.json).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from engine.bootstrap import ensure_ready
from engine.models.registry import ModelRegistry
from engine.pipeline import Pipeline
from engine.route import RoutingPolicy, load_policy
from engine.route.simulate import Truth, replay, with_topic_threshold
from engine.settings import Settings
from engine.stage import TicketState
from engine.training.data import LabelledTickets, join_subject
from engine.training.heads import train_heads
from engine.types import Ticket
from eval.cache import CachedEncoder
from eval.datasets import bitext, clinc150
from eval.risk import HELD_OUT, detect
from eval.train_risk import BITEXT_UNCLEAR, DATA, SEED, public, wrapped, written

RESULTS = Path(__file__).parent / "results" / "policy_coverage.json"
PARTIAL = Path(__file__).parent / ".cache" / "policy_coverage.partial.json"
OUT_OF_SCOPE = "out_of_scope"
KB_REASONS = ("no_confident_article",)  # the demo KB answers none of CLINC150's questions
GOALS = {"accuracy_at_80_coverage": 0.97, "human_recall": 0.95, "human_false_positive_rate": 0.02}
SWEEP = [i / 100 for i in range(100)]
console = Console()


def sweep(
    states: list[TicketState], truths: list[Truth], policy: RoutingPolicy, ignore: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Coverage and accuracy of the automated at each topic-confidence threshold of ``SWEEP``."""
    points = []
    for threshold in SWEEP:
        overall = replay(states, truths, with_topic_threshold(policy, threshold), ignore).overall
        accuracy = None if overall.error_rate is None else 1 - overall.error_rate
        points.append({"threshold": threshold, "coverage": round(overall.automation_rate or 0.0, 4),
                       "accuracy": None if accuracy is None else round(accuracy, 4), "automated": overall.automated})
    return points


def goal_points(points: list[dict[str, Any]]) -> dict[str, Any]:
    """The widest coverage that keeps the accuracy goal, and the accuracy where coverage first reaches 80%."""
    goal = GOALS["accuracy_at_80_coverage"]
    meeting = [p for p in points if p["accuracy"] is not None and p["accuracy"] >= goal]
    at_80 = min((p for p in points if p["coverage"] >= 0.8), key=lambda p: p["coverage"], default=None)
    return {
        "max_coverage_at_97_accuracy": max(meeting, key=lambda p: p["coverage"], default=None),
        "at_80_coverage": at_80,
        "meets_goal_at_80_coverage": bool(at_80 and at_80["accuracy"] is not None and at_80["accuracy"] >= goal),
    }


def curve(states: list[TicketState], truths: list[Truth], settings: Settings) -> dict[str, Any]:
    """The shipped policy's point and its risk-coverage curve over the topic-confidence threshold.

    Beside it, the topic decision alone (every reason but ``out_of_scope`` and ``low_topic_confidence`` ignored):
    the selective classifier without the policy's other handoffs (risks, languages), and the shipped point's
    errors split into in-scope tickets given the wrong intent and out-of-scope tickets automated.
    """
    policy = load_policy(settings.routing_file)
    shipped = replay(states, truths, policy, KB_REASONS)
    in_scope = [i for i, t in enumerate(truths) if t.topic != OUT_OF_SCOPE]
    outside = [i for i, t in enumerate(truths) if t.topic == OUT_OF_SCOPE]
    split = {
        name: replay([states[i] for i in rows], [truths[i] for i in rows], policy, KB_REASONS).overall.to_json()
        for name, rows in (("in_scope", in_scope), ("out_of_scope", outside))
    }
    others = tuple(sorted(set(shipped.reasons) - {"out_of_scope", "low_topic_confidence"}))
    points = sweep(states, truths, policy, KB_REASONS)
    topic_only = sweep(states, truths, policy, others)
    return {
        "shipped": {"topic_confidence": policy.thresholds.topic_confidence, **shipped.to_json(), "split": split},
        **goal_points(points),
        "topic_decision_only": {"ignored_reasons": list(others), **goal_points(topic_only), "curve": topic_only},
        "curve": points,
    }


def run_clinc150(limit: int | None, keep: Path | None) -> dict[str, Any]:
    """Heads trained as `sift train` trains them, in a fresh data directory; the test split through the pipeline.

    ``keep``: a data directory to train in and keep; when it already holds a topic head, that head is reused
    (for re-running the analysis without the ten-minute fit).
    """
    train = clinc150("train") + [(t, OUT_OF_SCOPE) for t, _ in clinc150("oos_train")]
    test = clinc150("test") + [(t, OUT_OF_SCOPE) for t, _ in clinc150("oos_test")]
    if limit:
        rng = random.Random(SEED)
        train, test = rng.sample(train, min(5 * limit, len(train))), rng.sample(test, min(limit, len(test)))
    with tempfile.TemporaryDirectory(prefix="sift-policy-eval-") as tmp:
        base = Settings()
        settings = base.model_copy(update={"data_dir": keep or Path(tmp) / "data"})
        trained = (settings.heads_dir / "topic" / "ACTIVE").is_file()
        if base.index_dir.is_dir() and not settings.index_dir.exists():  # the demo KB's index: reuse a built one
            shutil.copytree(base.index_dir, settings.index_dir)
        registry = ModelRegistry(settings)
        ensure_ready(registry)  # the index if absent, and the default urgency head, as on a new install
        if not trained:
            labelled = LabelledTickets([join_subject(None, t) for t, _ in train], {"topic": [y for _, y in train]})
            encode = CachedEncoder(registry.encoder).encode_queries
            for report in train_heads(registry, labelled, {"topic": "topic"}, encode):
                console.print(f"trained {report.name} {report.version}: {report.metrics}")
            registry.reload_heads()
        pipeline = Pipeline(settings, registry)
        states: list[TicketState] = []
        step = 128
        for start in range(0, len(test), step):
            chunk = test[start : start + step]
            states += pipeline.states([Ticket(text=t) for t, _ in chunk], [f"c{start + i}" for i in range(len(chunk))])
            console.print(f"[dim]triaged {len(states)}/{len(test)}", end="\r")
        truths = [Truth(y) for _, y in test]
        result = curve(states, truths, settings)
    in_scope = sum(y != OUT_OF_SCOPE for _, y in test)
    result["tickets"] = {"in_scope": in_scope, "out_of_scope": len(test) - in_scope}
    return result


def risk_training_texts() -> set[str]:
    """The Bitext rows eval/train_risk.py fitted the shipped risk head on (its seeded sample, redrawn)."""
    rng = random.Random(SEED)
    wrapped(written(DATA / "train.jsonl"), rng)  # consumes the generator as train_risk.main does before sampling
    pairs, _ = public(rng)
    return {text for text, _ in pairs}


def run_human(limit: int | None) -> dict[str, Any]:
    """Recall of human_requested on contact_human_agent, false positives on the other intents (unseen rows)."""
    seen = risk_training_texts()
    rows = [(t, y) for t, y in bitext() if t not in seen]
    if limit:
        rows = random.Random(SEED).sample(rows, min(limit, len(rows)))
    settings = Settings()
    threshold = load_policy(settings.routing_file).thresholds.risk
    signals = detect([t for t, _ in rows], settings, threshold)
    groups = {"contact_human_agent": [], "other_intents": [], **{u: [] for u in BITEXT_UNCLEAR}}
    other_risk = 0
    misses, false = [], []
    for (text, intent), found in zip(rows, signals, strict=True):
        human = any(s.kind == "human_requested" for s in found)
        group = intent if intent in groups else "other_intents"
        groups[group].append(human)
        if group == "other_intents":
            other_risk += bool(found)
            if human:
                false.append(text)
        elif group == "contact_human_agent" and not human:
            misses.append(text)
    rate = {name: round(sum(v) / len(v), 4) if v else None for name, v in groups.items()}
    return {
        "threshold": threshold,
        "n": {name: len(v) for name, v in groups.items()},
        "left_out_as_risk_training_rows": len(bitext()) - len(rows) if not limit else None,
        "recall": rate["contact_human_agent"],
        "false_positive_rate": rate["other_intents"],
        "any_risk_rate_other_intents": round(other_risk / len(groups["other_intents"]), 4) if groups["other_intents"] else None,
        **{f"{u}_flagged": rate[u] for u in BITEXT_UNCLEAR},
        "meets_goals": bool(rate["contact_human_agent"] is not None and rate["contact_human_agent"] >= GOALS["human_recall"]
                            and rate["other_intents"] is not None and rate["other_intents"] <= GOALS["human_false_positive_rate"]),
        "missed_examples": misses[:15],
        "false_positive_examples": false[:15],
    }


def run_human_languages() -> dict[str, Any]:
    """The same two rates per language on Sift's held-out risk lines (eval/data/risk, eight languages).

    Bitext is English only; these lines were written apart from the risk head's training lines. Positives are
    the ``human_requested`` lines, negatives every other line (the look-alikes and the other kinds of risk).
    """
    rows = [json.loads(line) for name in HELD_OUT for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line]
    settings = Settings()
    signals = detect([r["text"] for r in rows], settings, load_policy(settings.routing_file).thresholds.risk)
    cells: dict[str, list[int]] = {}  # language -> positives, caught, negatives, flagged
    for row, found in zip(rows, signals, strict=True):
        cell = cells.setdefault(row["language"], [0, 0, 0, 0])
        human = any(s.kind == "human_requested" for s in found)
        if row["kind"] == "human_requested":
            cell[0] += 1
            cell[1] += human
        else:
            cell[2] += 1
            cell[3] += human
    total = [sum(c[i] for c in cells.values()) for i in range(4)]
    return {
        language: {"positives": c[0], "recall": round(c[1] / c[0], 4) if c[0] else None,
                   "negatives": c[2], "false_positive_rate": round(c[3] / c[2], 4) if c[2] else None}
        for language, c in sorted(cells.items()) + [("all", total)]
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="clinc150,human", help="comma-separated: clinc150, human")
    parser.add_argument("--limit", type=int, default=None, help="test rows per part (a seeded sample), for development")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="train CLINC150's head in this data directory and keep it; reuse the head it holds")
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(parts) - {"clinc150", "human"}
    if unknown:
        parser.error(f"unknown parts {sorted(unknown)}")
    report: dict[str, Any] = {"goals": GOALS, "limit": args.limit}
    if "human" in parts:
        report["human_requested_bitext"] = run_human(args.limit)
        console.print({k: v for k, v in report["human_requested_bitext"].items() if not k.endswith("examples")})
        report["human_requested_held_out_by_language"] = run_human_languages()
        console.print(report["human_requested_held_out_by_language"])
    if "clinc150" in parts:
        report["clinc150"] = run_clinc150(args.limit, args.data_dir)
        summary = Table(title="CLINC150 test (in scope + out of scope): the shipped policy's risk-coverage curve")
        for column in ("threshold", "coverage", "accuracy of automated"):
            summary.add_column(column, justify="right")
        for p in report["clinc150"]["curve"][::10]:
            summary.add_row(f"{p['threshold']:.2f}", f"{p['coverage']:.1%}", "-" if p["accuracy"] is None else f"{p['accuracy']:.1%}")
        console.print(summary)
        console.print({k: v for k, v in report["clinc150"].items() if k not in ("curve", "shipped", "topic_decision_only")})
        console.print({k: v for k, v in report["clinc150"]["topic_decision_only"].items() if k != "curve"})
        console.print(report["clinc150"]["shipped"]["split"])
        console.print(report["clinc150"]["shipped"]["overall"], report["clinc150"]["shipped"]["handoff_reasons"])
    out = args.out or (RESULTS if args.limit is None and len(parts) == 2 else PARTIAL)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    console.print(f"wrote {out}")


if __name__ == "__main__":
    main()
