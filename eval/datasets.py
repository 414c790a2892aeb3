"""Readers for the public data sets in ``shared/datasets`` (never shipped, only read)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path

from engine.settings import REPO_ROOT

SHARED = Path(os.environ.get("SIFT_SHARED_DIR", REPO_ROOT.parent / "shared")) / "datasets"
UMSAB_LANGS = {"en": "english", "de": "german", "es": "spanish", "fr": "french"}
SENTIMENT_NAMES = ("negative", "neutral", "positive")


def umsab(lang: str, split: str) -> tuple[list[str], list[str]]:
    folder = SHARED / "umsab-tweet-sentiment" / UMSAB_LANGS[lang]
    texts = (folder / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
    labels = (folder / f"{split}_labels.txt").read_text(encoding="utf-8").split()
    return texts, [SENTIMENT_NAMES[int(x)] for x in labels]


def sst2(split: str) -> tuple[list[str], list[str]]:
    """``test`` is the GLUE SST-2 dev set (the official test labels are private)."""
    texts, labels = [], []
    with (SHARED / "sst2" / f"{split}.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            texts.append(row["sentence"].strip())
            labels.append("positive" if row["label"].strip() == "1" else "negative")
    return texts, labels


def banking77(split: str) -> tuple[list[str], list[str]]:
    with (SHARED / "banking77" / f"{split}.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def clinc150(split: str) -> list[tuple[str, str]]:
    data = json.loads((SHARED / "clinc150" / "data_full.json").read_text())
    return [(t, label) for t, label in data[split]]


def bitext_rows() -> list[dict[str, str]]:
    """Bitext's rows: ``instruction`` (the request), ``intent``, ``tags`` (its language-variation flags: W marks
    offensive wording). The set has no splits (``in_half`` makes two)."""
    path = SHARED / "bitext-customer-support" / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def bitext() -> list[tuple[str, str]]:
    """Bitext's customer-support requests as (text, intent)."""
    return [(r["instruction"], r["intent"]) for r in bitext_rows()]


def in_half(text: str, half: int) -> bool:
    """A stable two-way split by the text's hash, for sets without splits: train on one half, test on the other."""
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16) % 2 == half


XQUAD_LANGS = ("en", "de", "es", "ru", "zh", "ar", "hi")


def xquad(lang: str) -> tuple[list[str], list[tuple[str, int]]]:
    """(paragraphs, [(question, index of its paragraph)]); paragraph order is the same in every language."""
    data = json.loads((SHARED / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
    paragraphs: list[str] = []
    questions: list[tuple[str, int]] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            questions += [(qa["question"], len(paragraphs)) for qa in paragraph["qas"]]
            paragraphs.append(paragraph["context"])
    return paragraphs, questions


def xquad_articles() -> list[int]:
    """The Wikipedia article (0-47) of each paragraph, in ``xquad``'s order: splits by article keep topics apart."""
    data = json.loads((SHARED / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))
    return [i for i, article in enumerate(data["data"]) for _ in article["paragraphs"]]


def xsid(lang: str, split: str) -> list[str]:
    """The request texts of one xSID file (``split`` is ``valid`` or ``test``)."""
    lines = (SHARED / "xsid" / f"{lang}.{split}.conll").read_text(encoding="utf-8").splitlines()
    return [line.removeprefix("# text = ").strip() for line in lines if line.startswith("# text = ")]


def tickets_multilang() -> list[tuple[str, str]]:
    """(subject + body, language) of every distinct ticket in both tickets-multilang files."""
    from bench.tickets import multilang_tickets  # the benchmark's reader: literal "\\n" line breaks, deduplication

    return [(t.plain_text(), t.language) for t in multilang_tickets(SHARED)]


def tickets_multilang_labelled() -> list[dict[str, str]]:
    """Every distinct ticket of tickets-multilang v4 (dataset-tickets-multi-lang-4-20k) with its labels.

    Rows are ``subject``, ``body`` (literal ``\\n`` sequences turned into line breaks, as the benchmark's reader
    does), ``answer`` (the agent's real reply, line breaks likewise), ``queue``, ``priority`` and ``language``; a
    body seen before is skipped.
    """
    from bench.tickets import MULTILANG, read_csv

    seen: set[str] = set()
    out = []
    for row in read_csv(SHARED / MULTILANG[0]):
        body = (row.get("body") or "").replace("\\n", "\n").strip()
        if not body or body in seen:
            continue
        seen.add(body)
        out.append({
            "subject": (row.get("subject") or "").replace("\\n", " ").strip(),
            "body": body,
            "answer": (row.get("answer") or "").replace("\\n", "\n").strip(),
            "queue": row["queue"].strip(),
            "priority": row["priority"].strip(),
            "language": (row.get("language") or "und").strip(),
        })
    return out


def endava() -> list[dict[str, str]]:
    """The Endava support tickets (stop words removed): ``title``, ``body``, ``category`` and ``urgency`` codes."""
    from bench.tickets import read_csv

    return [
        {"title": r["title"].strip(), "body": r["body"].strip(), "category": r["category"].strip(),
         "urgency": r["urgency"].strip()}
        for r in read_csv(SHARED / "endava-support-tickets" / "all_tickets.subset.csv")
    ]
