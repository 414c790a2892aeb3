"""Measure the risk stage on the held-out tickets and on public everyday requests.

Run from the repo root:  .venv/bin/python -m eval.risk [--threshold 0.5]

Held-out set: ``eval/data/risk/test.jsonl``, written apart from the training lines
(other wordings, calmer and longer, informal, a few typos) in en, de, es, fr, hr,
it, pt, nl, with look-alike questions (``kind: none``). The stage runs as in the
pipeline: normalised text, detected language, the encoder's query embedding.
Reports, per kind and language, the share handed off with any risk reason and
with the right one, and the share of look-alikes carrying one; then the trigger
rate on public everyday requests and the recall on BANKING77's fraud intents
(their test splits; the head trained on other rows), and on Sift's own demo tickets
taken as everyday (see ``demo_everyday``). Writes eval/results/risk.json.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from engine.language import LanguageDetector
from engine.models.registry import ModelRegistry
from engine.normalise import Normaliser
from engine.risk import RiskDetector, RiskInput
from engine.risk.lexicon import Lexicon
from engine.route import load_policy
from engine.settings import REPO_ROOT, Settings
from engine.types import RISK_KINDS, RiskSignal, Ticket
from eval.cache import CachedEncoder
from eval.datasets import banking77, clinc150, xsid
from eval.train_risk import BANKING77_FRAUD, BANKING77_UNCLEAR, CLINC_UNCLEAR, DATA

RESULTS = Path(__file__).parent / "results" / "risk.json"
# Held-out sets, all written apart from the training lines, each measured blind once:
# test.jsonl (run 1), test_b.jsonl (run 2), test_c.jsonl (run 3, on the shipped head and threshold). After
# runs 1 and 2 the concepts they missed (not their wordings) were added to training and the threshold was
# chosen on test.jsonl and test_b.jsonl, so only test_c.jsonl still measures the shipped stage blind.
HELD_OUT = ("test_c.jsonl", "test_b.jsonl", "test.jsonl")
LANGUAGES = ("en", "de", "es", "fr", "hr", "it", "pt", "nl")
DEMO_TICKETS = REPO_ROOT / "data" / "demo_tickets.jsonl"
EVERYDAY_TOPICS = ("delivery", "returns", "billing", "technical", "out_of_scope")


def demo_everyday() -> list[str]:
    """Demo tickets taken as everyday: low or normal urgency, an everyday topic, no lexicon pattern firing.

    A weak label (the demo set also holds risk tickets, some of them calm), but these are
    the longer smart-home complaints a Sift helpdesk gets every day, which the look-alike
    questions of the held-out sets do not cover.
    """
    lexicon = Lexicon.load()
    rows = [json.loads(line) for line in DEMO_TICKETS.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [
        f"{r.get('subject') or ''}\n{r['text']}".strip()
        for r in rows
        if r.get("urgency") in ("low", "normal") and r.get("topic") in EVERYDAY_TOPICS
    ]
    return [t for t in texts if not lexicon.match([t], set(lexicon.languages))]


def detect(texts: list[str], settings: Settings, threshold: float) -> list[tuple[RiskSignal, ...]]:
    """The risk stage on each text as a one-message ticket, as Pipeline.run feeds it."""
    registry = ModelRegistry(settings)
    normalised = [Normaliser.normalise(Ticket(text=t)).text for t in texts]
    languages = LanguageDetector.from_settings(registry, settings).identify(normalised, [None] * len(texts))
    vectors = CachedEncoder(registry.encoder).encode_queries(normalised)
    detector = RiskDetector(registry, threshold)
    return detector.detect(
        [RiskInput((t,), vectors[i : i + 1], languages[i]) for i, t in enumerate(normalised)]
    )


def rate(hits: int, n: int) -> float | None:
    return round(hits / n, 4) if n else None


def measure(path: Path, settings: Settings, threshold: float, console: Console) -> dict[str, object]:
    """Per kind and language: recall (any risk reason, the right one); per language: look-alikes flagged."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    found = detect([r["text"] for r in rows], settings, threshold)

    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])  # n, any risk, right kind
    by_source = {"lexicon": 0, "head": 0}
    for row, signals in zip(rows, found, strict=True):
        cell = cells[(row["kind"], row["language"])]
        cell[0] += 1
        cell[1] += bool(signals)
        cell[2] += any(s.kind == row["kind"] for s in signals)
        if row["kind"] != "none" and signals:
            evidence = [e for s in signals for e in s.evidence]
            by_source["lexicon"] += any(e.startswith("lexicon:") for e in evidence)
            by_source["head"] += any(e.startswith("head:") for e in evidence)
        if (row["kind"] == "none") == bool(signals):
            kinds = ",".join(s.kind for s in signals) or "-"
            console.print(f"[dim]{'FALSE' if signals else 'MISS '} {row['kind']}/{row['language']} -> {kinds}: {row['text'][:90]}")

    table = Table(title=f"{path.name}: handed off with any risk reason / the right one / n; look-alikes: flagged / n")
    table.add_column("kind")
    for lang in LANGUAGES:
        table.add_column(lang, justify="right")
    table.add_column("all", justify="right")
    report: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for kind in (*RISK_KINDS, "none"):
        report[kind] = {}
        line = [kind]
        for lang in (*LANGUAGES, "all"):
            n, anyrisk, right = (
                [sum(cells[(kind, la)][j] for la in LANGUAGES) for j in range(3)] if lang == "all" else cells[(kind, lang)]
            )
            if kind == "none":
                report[kind][lang] = {"n": n, "false_trigger": rate(anyrisk, n)}
                line.append(f"{anyrisk}/{n}")
            else:
                report[kind][lang] = {"n": n, "recall_any": rate(anyrisk, n), "recall_kind": rate(right, n)}
                line.append(f"{anyrisk}/{right}/{n}")
        table.add_row(*line)
    console.print(table)
    risk_n = sum(v[0] for (k, _), v in cells.items() if k != "none")
    risk_any = sum(v[1] for (k, _), v in cells.items() if k != "none")
    risk_right = sum(v[2] for (k, _), v in cells.items() if k != "none")
    none_n = sum(v[0] for (k, _), v in cells.items() if k == "none")
    none_hit = sum(v[1] for (k, _), v in cells.items() if k == "none")
    summary = {
        "risk_recall_any": rate(risk_any, risk_n),
        "risk_recall_kind": rate(risk_right, risk_n),
        "lookalike_false_trigger": rate(none_hit, none_n),
        "risk_n": risk_n,
        "lookalike_n": none_n,
        "caught_by_lexicon": rate(by_source["lexicon"], risk_n),
        "caught_by_head": rate(by_source["head"], risk_n),
    }
    console.print(summary)
    return {"summary": summary, "by_kind_and_language": report}



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=None, help="the risk threshold (default: the routing policy's thresholds.risk)")
    args = parser.parse_args()
    console = Console()
    settings = Settings()
    threshold = args.threshold if args.threshold is not None else load_policy(settings.routing_file).thresholds.risk
    held_out = {name: measure(DATA / name, settings, threshold, console) for name in HELD_OUT}

    test_texts, test_labels = banking77("test")
    fraud = [t for t, y in zip(test_texts, test_labels, strict=True) if y in BANKING77_FRAUD]
    everyday_b77 = [t for t, y in zip(test_texts, test_labels, strict=True) if y not in BANKING77_FRAUD + BANKING77_UNCLEAR]
    everyday_clinc = [t for t, y in clinc150("test") if y not in ("report_fraud", *CLINC_UNCLEAR)]
    public: dict[str, dict[str, float | int | None]] = {}
    for name, texts, positive in (
        ("banking77-test fraud intents", fraud, True),
        ("banking77-test everyday", everyday_b77, False),
        ("clinc150-test everyday", everyday_clinc, False),
        ("clinc150-oos_test", [t for t, _ in clinc150("oos_test")], False),
        *((f"xsid-{la}-test", xsid(la, "test"), False) for la in ("de", "it", "nl")),
        ("demo tickets, everyday", demo_everyday(), False),
    ):
        signals = detect(texts, settings, threshold)
        fired = sum(bool(s) for s in signals)
        key = "recall_any" if positive else "trigger_rate"
        public[name] = {"n": len(texts), key: rate(fired, len(texts))}
        console.print(name, public[name])

    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"threshold": threshold, "held_out": held_out, "public": public},
            indent=2,
        )
    )
    console.print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
