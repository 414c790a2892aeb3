"""Train the shipped risk head (engine/assets/risk-v1) and record its provenance.

Run from the repo root:  .venv/bin/python -m eval.train_risk

Classes: the seven risk kinds of ``engine.types.RISK_KINDS`` and ``none``. Data:
- ``eval/data/risk/train.jsonl``: risk tickets per kind and look-alike questions in
  en, de, es, fr, hr, it, pt, nl, written for Sift; each line is also used once
  wrapped in a greeting and a sign-off of its language, so a calm, longer ticket
  reads like its core sentence;
- public data (shared/datasets), English: BANKING77 train (payments, withdrawals and
  direct debits not recognised, compromised card -> fraud), CLINC150 train
  (report_fraud -> fraud), Bitext customer support (contact_human_agent ->
  human_requested); everyday requests of all three and CLINC's out-of-scope train
  queries -> none; xSID de/it/nl validation requests -> none.
The held-out measurement is eval/risk.py on eval/data/risk/test.jsonl, written apart.
"""

from __future__ import annotations

import json
import random
import shutil
from collections import Counter
from pathlib import Path

import numpy as np
from rich.console import Console

from engine.models.registry import ModelRegistry
from engine.settings import PACKAGE_DIR, Settings
from engine.training.fit import fit_head
from engine.types import RISK_KINDS
from eval.cache import encode_cached
from eval.datasets import banking77, bitext, clinc150, xsid

OUT = PACKAGE_DIR / "assets" / "risk-v1"
DATA = Path(__file__).parent / "data" / "risk"
RESULTS = Path(__file__).parent / "results" / "risk_train.json"
SEED = 0
C = 1.0

BANKING77_FRAUD = (
    "card_payment_not_recognised", "cash_withdrawal_not_recognised", "direct_debit_payment_not_recognised",
    "compromised_card",
)
# Neither risk nor everyday: a lost card or phone may or may not be misused.
BANKING77_UNCLEAR = ("lost_or_stolen_card", "lost_or_stolen_phone")
CLINC_UNCLEAR = ("account_blocked", "freeze_account")
# "How can I contact customer service?" is neither an explicit request for a person nor clearly not one.
BITEXT_UNCLEAR = ("contact_customer_service",)
PER_INTENT = {"banking77": 8, "clinc150": 3, "bitext": 25}
PER_RISK_INTENT = 40
XSID_PER_LANGUAGE = 120

# Wrappers in each language: a calm ticket is the risk sentence among everyday words.
OPENINGS = {
    "en": ["Hello,", "Hi there,", "Good morning,"],
    "de": ["Hallo,", "Guten Tag,", "Sehr geehrte Damen und Herren,"],
    "es": ["Hola,", "Buenos días,", "Buenas tardes,"],
    "fr": ["Bonjour,", "Madame, Monsieur,", "Salut,"],
    "hr": ["Pozdrav,", "Dobar dan,", "Poštovani,"],
    "it": ["Salve,", "Buongiorno,", "Ciao,"],
    "pt": ["Olá,", "Bom dia,", "Boa tarde,"],
    "nl": ["Hallo,", "Goedemiddag,", "Beste,"],
}
CLOSINGS = {
    "en": ["Thanks.", "Kind regards, Sam", "Let me know what you think."],
    "de": ["Danke.", "Viele Grüße", "Mit freundlichen Grüßen, Jana"],
    "es": ["Gracias.", "Un saludo.", "Saludos, Marta"],
    "fr": ["Merci.", "Cordialement.", "Bonne journée, Luc"],
    "hr": ["Hvala.", "Lijep pozdrav.", "Srdačno, Ivana"],
    "it": ["Grazie.", "Cordiali saluti.", "Buona giornata, Marco"],
    "pt": ["Obrigado.", "Cumprimentos.", "Atenciosamente, Rita"],
    "nl": ["Bedankt.", "Met vriendelijke groet.", "Groetjes, Bram"],
}


def written(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def wrapped(rows: list[dict[str, str]], rng: random.Random) -> list[tuple[str, str]]:
    """Each line once more inside a greeting and a sign-off of its language."""
    return [
        (f"{rng.choice(OPENINGS[r['language']])} {r['text']} {rng.choice(CLOSINGS[r['language']])}", r["kind"])
        for r in rows
    ]


def sample(pairs: list[tuple[str, str]], per_label: int, rng: random.Random) -> list[tuple[str, str]]:
    by_label: dict[str, list[str]] = {}
    for text, label in pairs:
        by_label.setdefault(label, []).append(text)
    out = []
    for label in sorted(by_label):
        texts = sorted(set(by_label[label]))
        out += [(t, label) for t in rng.sample(texts, min(per_label, len(texts)))]
    return out


def public(rng: random.Random) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """(text, kind or "none") from the public data sets, and how many each contributed."""
    data: list[tuple[str, str]] = []
    counts: dict[str, int] = {}

    def add(name: str, pairs: list[tuple[str, str]]) -> None:
        data.extend(pairs)
        counts[name] = len(pairs)

    b77 = list(zip(*banking77("train"), strict=True))
    add("banking77 fraud", [(t, "fraud") for t, _ in sample([p for p in b77 if p[1] in BANKING77_FRAUD], PER_RISK_INTENT, rng)])
    everyday = [p for p in b77 if p[1] not in BANKING77_FRAUD + BANKING77_UNCLEAR]
    add("banking77 none", [(t, "none") for t, _ in sample(everyday, PER_INTENT["banking77"], rng)])
    clinc = clinc150("train")
    add("clinc150 fraud", [(t, "fraud") for t, _ in sample([p for p in clinc if p[1] == "report_fraud"], PER_RISK_INTENT, rng)])
    everyday = [p for p in clinc if p[1] not in ("report_fraud", *CLINC_UNCLEAR)]
    add("clinc150 none", [(t, "none") for t, _ in sample(everyday, PER_INTENT["clinc150"], rng)])
    add("clinc150 oos none", [(t, "none") for t, _ in clinc150("oos_train")])
    bt = bitext()
    human = [p for p in bt if p[1] == "contact_human_agent"]
    add("bitext human_requested", [(t, "human_requested") for t, _ in sample(human, PER_RISK_INTENT * 2, rng)])
    everyday = [p for p in bt if p[1] not in ("contact_human_agent", *BITEXT_UNCLEAR)]
    add("bitext none", [(t, "none") for t, _ in sample(everyday, PER_INTENT["bitext"], rng)])
    for lang in ("de", "it", "nl"):
        texts = sorted(set(xsid(lang, "valid")))
        add(f"xsid-{lang} none", [(t, "none") for t in rng.sample(texts, min(XSID_PER_LANGUAGE, len(texts)))])
    return data, counts


def main() -> None:
    console = Console()
    rng = random.Random(SEED)
    encoder = ModelRegistry(Settings()).encoder
    own = written(DATA / "train.jsonl")
    unknown = {r["kind"] for r in own} - {*RISK_KINDS, "none"}
    if unknown:
        raise SystemExit(f"unknown kinds in train.jsonl: {sorted(unknown)}")
    pairs = [(r["text"], r["kind"]) for r in own] + wrapped(own, rng)
    extra, sources = public(rng)
    pairs += extra
    texts = [t for t, _ in pairs]
    labels = [k for _, k in pairs]
    console.print(f"{len(texts)} examples: {dict(sorted(Counter(labels).items()))}")
    x = encode_cached(encoder, texts)
    head = fit_head("risk", x, labels, texts, encoder.id, kind="logreg", c=C, seed=SEED, keep_support=False)
    assert head.held_out is not None
    probs = head.held_out.probs
    classes = np.asarray(head.labels)
    truth = np.asarray(labels)
    own_rows = np.arange(len(own))  # the hand-written lines come first
    sweep = {}
    for threshold in (0.2, 0.3, 0.4, 0.5, 0.6):
        risk_cols = [i for i, c in enumerate(classes) if c != "none"]
        fires = probs[:, risk_cols].max(axis=1) >= threshold
        is_risk = truth != "none"
        sweep[str(threshold)] = {
            "recall_all": round(float(fires[is_risk].mean()), 4),
            "false_trigger_all": round(float(fires[~is_risk].mean()), 4),
            "recall_written": round(float(fires[own_rows][is_risk[own_rows]].mean()), 4),
            "false_trigger_written": round(float(fires[own_rows][~is_risk[own_rows]].mean()), 4),
        }
        console.print(f"out-of-fold, threshold {threshold}: {sweep[str(threshold)]}")
    meta = dict(head.meta.__dict__)
    meta["metrics"] = {**head.meta.metrics, **{f"oof_{t}_{m}": v for t, r in sweep.items() for m, v in r.items()}}
    meta["provenance"] = {
        "train": ["eval/data/risk/train.jsonl (written for Sift; each line also wrapped once)", *sources],
        "counts": sources,
        "sources": "BANKING77 (CC BY 4.0), CLINC150 (CC BY 3.0), Bitext customer support (CDLA-Sharing-1.0), "
        "xSID (CC BY-SA 4.0); only their embeddings' fitted weights ship, no text",
        "script": "eval/train_risk.py",
        "c": C,
        "seed": SEED,
    }
    if OUT.exists():
        shutil.rmtree(OUT)
    head.save(OUT)
    (OUT / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False, default=list))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"encoder": encoder.id, "n": len(texts), "sources": sources, "out_of_fold": sweep}, indent=2))
    console.print(f"saved {OUT}")


if __name__ == "__main__":
    main()
