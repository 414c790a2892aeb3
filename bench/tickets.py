"""The benchmark's tickets: a deterministic draw of real customer-support messages from shared/datasets.

Half the tickets come from Bitext's customer-support utterances (English, one short message each), half from
tickets-multilang (English and German e-mails with a subject). Each source is shuffled with a fixed seed and the
two are interleaved, so a smaller run (``--tickets 50``) is a prefix of the full 2,000-ticket draw.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

REPO_ROOT = Path(__file__).resolve().parent.parent
DATASETS = REPO_ROOT.parent / "shared" / "datasets"
BITEXT = Path("bitext-customer-support") / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
MULTILANG = (
    Path("tickets-multilang") / "dataset-tickets-multi-lang-4-20k.prefix.csv",
    Path("tickets-multilang") / "aa_dataset-tickets-multi-lang-5-2-50-version.prefix.csv",
)
T = TypeVar("T")
MAX_CHARS = 20_000  # Sift's default max_text_chars: longer tickets would be refused, not triaged.


@dataclass(frozen=True)
class BenchTicket:
    text: str
    subject: str | None
    language: str
    source: str

    def payload(self) -> dict[str, str]:
        """The request body Sift's API and service accept."""
        return {"text": self.text, "subject": self.subject} if self.subject else {"text": self.text}

    def plain_text(self) -> str:
        """What a typical integration feeds its models: the subject line, then the body."""
        return f"{self.subject}\n{self.text}" if self.subject else self.text


def read_csv(path: Path) -> list[dict[str, str]]:
    """A data set's CSV rows; utf-8-sig because some of them were saved with a byte-order mark."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the benchmark reads shared/datasets (see its README.md)")
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _bitext(root: Path) -> list[BenchTicket]:
    seen: set[str] = set()
    out = []
    for row in read_csv(root / BITEXT):
        text = (row.get("instruction") or "").strip()
        if text and len(text) <= MAX_CHARS and text not in seen:
            seen.add(text)
            out.append(BenchTicket(text, None, "en", "bitext-customer-support"))
    return out


def multilang_tickets(root: Path) -> list[BenchTicket]:
    seen: set[str] = set()
    out = []
    for rel in MULTILANG:
        for row in read_csv(root / rel):
            # The data set writes line breaks as literal "\n" sequences.
            body = (row.get("body") or "").replace("\\n", "\n").strip()
            subject = (row.get("subject") or "").replace("\\n", " ").strip() or None
            if body and len(body) <= MAX_CHARS and body not in seen:
                seen.add(body)
                out.append(BenchTicket(body, subject, (row.get("language") or "und").strip(), "tickets-multilang"))
    return out


def draw_tickets(n: int, seed: int = 6, root: Path = DATASETS) -> list[BenchTicket]:
    """``n`` tickets, the same ones for the same seed; a smaller ``n`` gives a prefix of a larger draw."""
    if n < 1:
        raise ValueError(f"n must be at least 1; got {n}")
    return draw_evenly([_bitext(root), multilang_tickets(root)], n, f"{seed}", "tickets")


def draw_evenly(streams: list[list[T]], n: int, salt: str, noun: str) -> list[T]:
    """The first ``n`` of the streams interleaved, each shuffled by its own seed (``salt:index``).

    Seeding each stream apart keeps a smaller draw a prefix of a larger one.
    """
    for i, stream in enumerate(streams):
        random.Random(f"{salt}:{i}").shuffle(stream)
    interleaved = [item for group in zip(*streams, strict=False) for item in group]
    if n > len(interleaved):
        raise ValueError(f"asked for {n} {noun}; the data sets give {len(interleaved)} when drawn evenly")
    return interleaved[:n]


def describe(tickets: list[BenchTicket]) -> dict[str, object]:
    """Counts by source and language, mean length, and a digest that identifies the exact draw."""
    digest = hashlib.sha256()
    for t in tickets:
        digest.update(json.dumps(asdict(t), ensure_ascii=False, sort_keys=True).encode("utf-8"))
    return {
        "n": len(tickets),
        "sources": dict(Counter(t.source for t in tickets)),
        "languages": dict(Counter(t.language for t in tickets)),
        "mean_chars": round(sum(len(t.plain_text()) for t in tickets) / max(len(tickets), 1), 1),
        "sha256": digest.hexdigest(),
    }


def write_jsonl(tickets: list[BenchTicket], path: Path) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for t in tickets:
            fh.write(json.dumps(asdict(t), ensure_ascii=False) + "\n")


def read_jsonl(path: Path) -> list[BenchTicket]:
    with path.open(encoding="utf-8") as fh:
        return [BenchTicket(**json.loads(line)) for line in fh if line.strip()]
