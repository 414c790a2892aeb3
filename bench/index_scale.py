"""The KB index at scale: build time, query latency, HNSW recall and memory for N real text chunks (issues #5, #6).

    .venv/bin/python -m bench.index_scale [--chunks 100000] [--queries 500] [--index-types flat,hnsw]
                                          [--cache-dir eval/.cache/index-scale] [--results-dir bench/results]

1. A pool of N distinct real text chunks from shared/datasets (KB-like texts, support answers, tickets, questions
   and utterances in en de es ru zh ar hi fr it nl da tr ja), cut into in-memory KB articles of a few sections.
2. ``build_index`` (the code `sift index` runs) once per index type, each into its own scratch index root, with
   Sift's encoder (``ModelRegistry(Settings()).encoder``). Encoding, the faiss ``add``, the BM25 build and the rest
   (writing the build) are timed apart. Passage vectors are cached on disk by (encoder id, passage-text hash), so a
   re-run or the second index type does not re-encode; the encoder seconds measured when a vector was first made
   are kept beside it, so a fresh build's time can still be stated.
3. Per index type, a fresh process (so memory figures do not mix) loads the build the way the service does
   (``Retriever.reload`` -> ``KBIndex.current``) and runs real queries (XQuAD questions in seven languages,
   BANKING77 test texts) one at a time: query encoding and ``Retriever.run`` timed apart, its resident memory read
   before and after. HNSW's recall@10 is measured against flat's exact top 10.
Writes bench/results/index_scale-<UTC timestamp>.json and prints a table.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from bench.measure import MIB, RESULTS_DIR, high_water_mib, reporter, summary_ms, write_result
from bench.tickets import DATASETS, REPO_ROOT, draw_evenly, read_csv

if TYPE_CHECKING:
    import numpy as np

    from engine.kb.articles import Article
    from engine.models.encoders import Encoder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
app = typer.Typer(add_completion=False, help=__doc__.split("\n\n")[0])
out = Console()
err = Console(stderr=True)
DEFAULT_CACHE = REPO_ROOT / "eval" / ".cache" / "index-scale"  # eval/.cache/ is gitignored
INDEX_KINDS = ("flat", "hnsw")
SECTIONS_PER_ARTICLE = 5
PASSAGE_CHARS = 320  # long texts (XQuAD paragraphs, Bitext answers) are cut into passages of about this size
MIN_CHARS = 12
RECALL_AT = 10
WARMUP_QUERIES = 5
CACHE_FLUSH = 2048  # vectors per cache shard: an interrupted run keeps what it encoded
SETTINGS_RECORDED = (
    "encoder_backend", "encoder_precision", "encoder_threads", "encode_batch_size", "retrieval_mode",
    "top_k_articles", "fusion", "lexical_weight", "window_sentences", "window_weight", "hnsw_ef_search",
)


# --------------------------------------------------------------------------------------------------------------
# The chunk pool: real texts from shared/datasets, deterministic, deduplicated


@dataclass(frozen=True)
class Draft:
    """One KB article before it is written as Markdown: a title, a language and its sections' texts."""

    source: str
    key: str
    title: str
    language: str
    texts: tuple[str, ...]
    translation_of: str | None = None


def _clean(text: str) -> str:
    """One line (a line starting with '#' would become a heading), whitespace collapsed."""
    return " ".join(text.replace("\\n", " ").split()).lstrip("#").strip()


_SENTENCE_END = re.compile(r"(?<=[.!?;।؟])\s+|(?<=[。！？；])")


def _passages(text: str, limit: int = PASSAGE_CHARS) -> list[str]:
    """Sentences packed greedily into passages of up to ``limit`` characters (a longer sentence stays whole)."""
    out: list[str] = []
    for sentence in (s.strip() for s in _SENTENCE_END.split(text)):
        if not sentence:
            continue
        if out and len(out[-1]) + 1 + len(sentence) <= limit:
            out[-1] = f"{out[-1]} {sentence}"
        else:
            out.append(sentence)
    return out


def _label(name: str) -> str:
    return name.replace("_", " ").replace("/", ": ").strip().capitalize()


def _grouped(source: str, language: str, rows: list[tuple[str, str]], min_chars: int = MIN_CHARS) -> list[Draft]:
    """Short texts (utterances, tweets) grouped by label, ``SECTIONS_PER_ARTICLE`` to an article titled by it."""
    by_label: dict[str, list[str]] = {}
    for text, label in rows:
        text = _clean(text)
        if len(text) >= min_chars:
            by_label.setdefault(label, []).append(text)
    drafts = []
    for label, texts in by_label.items():
        for k in range(0, len(texts), SECTIONS_PER_ARTICLE):
            drafts.append(Draft(source, f"{language}-{label}-{k // SECTIONS_PER_ARTICLE}", _label(label) or source,
                                language, tuple(texts[k : k + SECTIONS_PER_ARTICLE])))
    return drafts


def _xquad(root: Path) -> list[Draft]:
    """Each paragraph an article cut into passages; the other languages' paragraphs are translations of the English."""
    drafts = []
    for path in sorted((root / "xquad").glob("xquad.*.json")):
        language = path.name.split(".")[1]
        for a, article in enumerate(json.loads(path.read_text(encoding="utf-8"))["data"]):
            for p, paragraph in enumerate(article["paragraphs"]):
                texts = tuple(_passages(_clean(paragraph["context"])))
                original = f"xquad-en-{a}-{p}"
                drafts.append(Draft("xquad", f"{language}-{a}-{p}", _label(article["title"]), language, texts,
                                    None if language == "en" else original))
    return drafts


def _abcd(root: Path) -> list[Draft]:
    """The ABCD agent guidelines: one article per subflow, one section per action (with its sub-points)."""
    guidelines = json.loads((root / "abcd-kb" / "guidelines.json").read_text(encoding="utf-8"))
    drafts = []
    for flow, spec in guidelines.items():
        for subflow, sub in spec.get("subflows", {}).items():
            texts = tuple(
                _clean(" ".join([action.get("text", ""), *action.get("subtext", [])]))
                for action in sub.get("actions", [])
            )
            drafts.append(Draft("abcd-kb", re.sub(r"\W+", "-", f"{flow}-{subflow}").lower(), f"{flow}: {subflow}", "en",
                                texts))
    return drafts


def _bitext(root: Path) -> list[Draft]:
    """Agent answers: one article per answer, one section per paragraph (short lines packed together)."""
    rows = read_csv(root / "bitext-customer-support" / "Bitext_Sample_Customer_Support_Training_Dataset.csv")
    drafts = []
    for i, row in enumerate(rows):
        paragraphs = [_clean(p) for p in re.split(r"\r?\n\s*\n", row.get("response") or "")]
        texts: list[str] = []
        for paragraph in filter(None, paragraphs):
            if texts and len(texts[-1]) < PASSAGE_CHARS // 4:
                texts[-1] = f"{texts[-1]} {paragraph}"
            else:
                texts.append(paragraph)
        drafts.append(Draft("bitext-customer-support", str(i), _label(row.get("intent") or "answer"), "en",
                            tuple(texts)))
    # The customers' requests, grouped by intent, as FAQ-style sections.
    questions = [(row.get("instruction") or "", row.get("intent") or "request") for row in rows]
    return drafts + [Draft(d.source, f"q-{d.key}", d.title, d.language, d.texts)
                     for d in _grouped("bitext-customer-support", "en", questions)]


def _tickets_multilang(root: Path) -> list[Draft]:
    """One article per ticket: the customer's message and the agent's answer (CC BY-NC: read, never copied)."""
    drafts = []
    for rel in ("dataset-tickets-multi-lang-4-20k.prefix.csv", "aa_dataset-tickets-multi-lang-5-2-50-version.prefix.csv"):
        for i, row in enumerate(read_csv(root / "tickets-multilang" / rel)):
            texts = tuple(_clean(row.get(field) or "") for field in ("body", "answer"))
            title = _clean(row.get("subject") or "") or _label(row.get("queue") or "ticket")
            drafts.append(Draft("tickets-multilang", f"{rel[:6]}-{i}", title, (row.get("language") or "en").strip(),
                                texts))
    return drafts


def _banking77(root: Path) -> list[Draft]:
    rows = read_csv(root / "banking77" / "train.csv")  # test.csv is the query side
    return _grouped("banking77", "en", [(r["text"], r["category"]) for r in rows])


def _clinc150(root: Path) -> list[Draft]:
    data = json.loads((root / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    rows = [(text, "out of scope" if intent == "oos" else intent) for split in data.values() for text, intent in split]
    return _grouped("clinc150", "en", rows)


def _xsid(root: Path) -> list[Draft]:
    drafts = []
    for path in sorted((root / "xsid").glob("*.conll")):
        language = path.name.split(".")[0]
        rows, text = [], None
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# text = "):
                text = line[len("# text = ") :]
            elif line.startswith("# intent = ") and text is not None:
                rows.append((text, line[len("# intent = ") :]))
                text = None
        drafts += [Draft("xsid", f"{path.stem}-{d.key}", d.title, d.language, d.texts)
                   for d in _grouped("xsid", language, rows, min_chars=4)]
    return drafts


def _umsab(root: Path) -> list[Draft]:
    languages = {"english": "en", "french": "fr", "german": "de", "spanish": "es"}
    names = {"0": "negative", "1": "neutral", "2": "positive"}
    drafts = []
    for folder, language in languages.items():
        rows = []
        for split in ("train", "val", "test"):
            base = root / "umsab-tweet-sentiment" / folder
            texts = (base / f"{split}_text.txt").read_text(encoding="utf-8").splitlines()
            labels = (base / f"{split}_labels.txt").read_text(encoding="utf-8").splitlines()
            rows += [(t, f"{names.get(lab.strip(), lab.strip())} posts") for t, lab in zip(texts, labels, strict=False)]
        drafts += _grouped("umsab-tweet-sentiment", language, rows)
    return drafts


def _itsm(root: Path) -> list[Draft]:
    rows = read_csv(root / "itsm-ticket-assignment" / "input_data.csv")
    pairs = [(f"{r.get('Short description') or ''}. {r.get('Description') or ''}", r.get("Assignment group") or "it")
             for r in rows]
    return _grouped("itsm-ticket-assignment", "en", pairs, min_chars=20)


def _endava(root: Path) -> list[Draft]:
    rows = read_csv(root / "endava-support-tickets" / "all_tickets.subset.csv")
    pairs = [(f"{r.get('title') or ''} {r.get('body') or ''}", f"category {r.get('category') or '?'}") for r in rows]
    return _grouped("endava-support-tickets", "en", pairs, min_chars=20)


def _sst2(root: Path) -> list[Draft]:
    """Film-review phrases: the largest pool, so it fills the tail of big runs; short fragments are left out."""
    with (root / "sst2" / "train.tsv").open(encoding="utf-8") as fh:
        rows = [(line.split("\t")[0], "film review excerpts") for line in list(fh)[1:]]
    return _grouped("sst2", "en", rows, min_chars=60)


SOURCES: tuple[tuple[str, Callable[[Path], list[Draft]]], ...] = (
    ("abcd-kb", _abcd),
    ("bitext-customer-support", _bitext),
    ("xquad", _xquad),
    ("tickets-multilang", _tickets_multilang),
    ("banking77", _banking77),
    ("clinc150", _clinc150),
    ("xsid", _xsid),
    ("umsab-tweet-sentiment", _umsab),
    ("itsm-ticket-assignment", _itsm),
    ("endava-support-tickets", _endava),
    ("sst2", _sst2),
)


def _article(draft: Draft) -> Article:
    from engine.kb.articles import Article

    body = "\n\n".join(f"## Part {i + 1}\n\n{text}" for i, text in enumerate(draft.texts))
    return Article(
        id=f"{draft.source}-{draft.key}", title=draft.title, language=draft.language, product=draft.source,
        tags=(draft.source,), updated="2024-01-01", audience="public", topic=None,
        translation_of=draft.translation_of, path="", body=body,
    )


def draw_pool(n: int, seed: int = 6, root: Path = DATASETS) -> list[Article]:
    """Articles holding exactly ``n`` distinct chunks, the same for the same seed; a smaller ``n`` is a prefix.

    Each source's articles are shuffled with the seed and the sources are taken in turn, one article each, so a
    small pool mixes every source and language; sources that run out leave the rest to the larger ones.
    A chunk whose text (case-folded) was already taken is dropped; the last article is cut to fit ``n``.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1; got {n}")
    queues = []
    for name, load in SOURCES:
        drafts = load(root)
        random.Random(f"{seed}:{name}").shuffle(drafts)
        queues.append(iter(drafts))
    seen: set[str] = set()
    articles: list[Article] = []
    total = 0
    while queues and total < n:
        for queue in list(queues):
            draft = next(queue, None)
            if draft is None:
                queues.remove(queue)
                continue
            texts = []
            for text in draft.texts:
                folded = text.casefold()
                if len(text) >= 2 and folded not in seen:
                    seen.add(folded)
                    texts.append(text)
            texts = texts[: n - total]
            if texts:
                articles.append(_article(Draft(**{**asdict(draft), "texts": tuple(texts)})))
                total += len(texts)
            if total >= n:
                break
    if total < n:
        raise ValueError(f"asked for {n} chunks; the data sets give {total} distinct ones")
    return articles


def describe_pool(articles: list[Article]) -> dict[str, Any]:
    from engine.kb.articles import chunk_article
    from engine.retrieve.index import passage_text

    chunks: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    chars = 0
    digest = hashlib.sha256()
    for article in articles:
        for chunk in chunk_article(article):
            text = passage_text(article, chunk)
            chunks[article.product] += 1
            languages[article.language] += 1
            chars += len(text)
            digest.update(text.encode("utf-8") + b"\x1e")
    n = sum(chunks.values())
    return {
        "chunks": n,
        "articles": len(articles),
        "by_source": dict(chunks),
        "by_language": dict(languages.most_common()),
        "mean_passage_chars": round(chars / max(n, 1), 1),
        "sha256": digest.hexdigest(),
    }


@dataclass(frozen=True)
class Query:
    text: str
    language: str
    source: str


def draw_queries(n: int, seed: int = 6, root: Path = DATASETS) -> list[Query]:
    """XQuAD questions in each of its languages and BANKING77 test texts, in turn, each stream shuffled."""
    streams: list[list[Query]] = []
    for path in sorted((root / "xquad").glob("xquad.*.json")):
        language = path.name.split(".")[1]
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
        streams.append([Query(_clean(qa["question"]), language, "xquad") for a in data for p in a["paragraphs"]
                        for qa in p["qas"]])
    streams.append([Query(_clean(r["text"]), "en", "banking77") for r in read_csv(root / "banking77" / "test.csv")])
    return draw_evenly(streams, n, f"{seed}:queries", "queries")


# --------------------------------------------------------------------------------------------------------------
# Passage vectors cached by (encoder id, passage hash), with the encoder seconds that made them


def _digest(text: str) -> str:
    """The passage hash ``build_index`` uses (blake2b-128 of the passage text)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


class VectorCache:
    """``DIR/<encoder id>/passage/*.npz``: shards of (hashes, vectors, encoder seconds per vector).

    ``eval/cache.py`` keys a whole list of texts by one hash and has a fixed folder; this keys each passage, so
    pools of different sizes and both index types share vectors.
    """

    def __init__(self, cache_dir: Path, encoder_id: str, on_disk: bool = True) -> None:
        import numpy as np

        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", encoder_id)
        self.folder = cache_dir / slug / "passage"
        self.on_disk = on_disk  # False: kept in memory for this run only (both index types still share it)
        self.vectors: dict[str, np.ndarray] = {}
        self.seconds: dict[str, float] = {}
        self._pending: list[tuple[str, np.ndarray, float]] = []
        for shard in sorted(self.folder.glob("*.npz")) if on_disk and self.folder.is_dir() else []:
            with np.load(shard) as data:
                for h, vector, s in zip(data["hashes"], data["vectors"], data["seconds"], strict=True):
                    self.vectors[str(h)] = vector
                    self.seconds[str(h)] = float(s)

    def add(self, hashes: list[str], vectors: np.ndarray, seconds_each: float) -> None:
        for h, vector in zip(hashes, vectors, strict=True):
            self.vectors[h] = vector
            self.seconds[h] = seconds_each
            self._pending.append((h, vector, seconds_each))
        if len(self._pending) >= CACHE_FLUSH:
            self.flush()

    def flush(self) -> None:
        import numpy as np

        if not self._pending or not self.on_disk:
            self._pending.clear()
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{os.getpid()}"
        tmp = self.folder / f".{name}.npz"
        np.savez(
            tmp,
            hashes=np.array([h for h, _, _ in self._pending]),
            vectors=np.stack([v for _, v, _ in self._pending]).astype(np.float32),
            seconds=np.array([s for _, _, s in self._pending], dtype=np.float64),
        )
        tmp.replace(self.folder / f"{name}.npz")
        self._pending.clear()


class CachingEncoder:
    """What ``build_index`` is given: cached passages come from the cache, the rest from Sift's encoder, timed."""

    def __init__(self, encoder: Encoder, cache: VectorCache) -> None:
        self._encoder = encoder
        self._cache = cache
        self.id = encoder.id
        self.dim = encoder.dim
        self.encoded = 0
        self.cached = 0
        self.seen: set[str] = set()  # distinct passages asked for, over all builds of the run
        self.encode_s = 0.0  # the encoder's own time for the passages it encoded
        self.wall_s = 0.0  # all time spent in encode_passages, cache look-ups included

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encoder.encode_queries(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        entered = time.perf_counter()
        hashes = [_digest(t) for t in texts]
        self.seen.update(hashes)
        missing = [i for i, h in enumerate(hashes) if h not in self._cache.vectors]
        if missing:
            start = time.perf_counter()
            vectors = self._encoder.encode_passages([texts[i] for i in missing])
            spent = time.perf_counter() - start
            self._cache.add([hashes[i] for i in missing], vectors, spent / len(missing))
            self.encode_s += spent
            self.encoded += len(missing)
        self.cached += len(texts) - len(missing)
        out = np.stack([self._cache.vectors[h] for h in hashes]).astype(np.float32, copy=False)
        self.wall_s += time.perf_counter() - entered
        return out


# --------------------------------------------------------------------------------------------------------------
# Builds


@contextmanager
def _build_timers() -> Iterator[dict[str, float | None]]:
    """Time the faiss ``add`` and the BM25 build inside ``build_index`` without changing what it does.

    Both are looked up in ``engine.retrieve.index`` at call time, so wrapping them there for the duration of one
    build is enough; if either is renamed the figure is ``None`` and lands in the "rest" of the build time.
    """
    import engine.retrieve.index as index_module

    timing: dict[str, float | None] = {"faiss_add_s": None, "bm25_s": None}
    saved: dict[str, Any] = {}

    def empty_index(*args: Any, **kwargs: Any) -> Any:
        index = saved["_empty_index"](*args, **kwargs)
        add = index.add

        def timed_add(x: Any) -> None:
            start = time.perf_counter()
            add(x)
            timing["faiss_add_s"] = (timing["faiss_add_s"] or 0.0) + time.perf_counter() - start

        index.add = timed_add
        return index

    def lexical(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return saved["build_lexical"](*args, **kwargs)
        finally:
            timing["bm25_s"] = (timing["bm25_s"] or 0.0) + time.perf_counter() - start

    for name, wrapper in (("_empty_index", empty_index), ("build_lexical", lexical)):
        if callable(getattr(index_module, name, None)):
            saved[name] = getattr(index_module, name)
            setattr(index_module, name, wrapper)
    try:
        yield timing
    finally:
        for name, original in saved.items():
            setattr(index_module, name, original)


def _disk(folder: Path) -> dict[str, float]:
    sizes: Counter[str] = Counter()
    for path in folder.rglob("*"):
        if path.is_file():
            sizes[path.relative_to(folder).parts[0]] += path.stat().st_size
    record = {name: round(size / MIB, 2) for name, size in sorted(sizes.items())}
    record["total"] = round(sum(sizes.values()) / MIB, 2)
    record["total_bytes"] = sum(sizes.values())
    return record


def build(kind: str, articles: list[Article], encoder: CachingEncoder, index_root: Path) -> dict[str, Any]:
    """``build_index`` into an empty ``index_root``: its wall time split into encoding, faiss, BM25 and the rest."""
    from engine.retrieve.index import build_index
    from engine.settings import Settings

    wall_before, encoded_before, cached_before, encode_before = (
        encoder.wall_s, encoder.encoded, encoder.cached, encoder.encode_s)
    start = time.perf_counter()
    report_progress = reporter(f"build {kind}")
    with _build_timers() as timing:
        report = build_index(
            encoder, articles, index_root, lambda done, total, _pass: report_progress(done, total), index_type=kind,
            window_sentences=Settings().window_sentences,
        )
    wall = time.perf_counter() - start
    in_encoder = encoder.wall_s - wall_before
    faiss_s, bm25_s = timing["faiss_add_s"], timing["bm25_s"]
    return {
        "index_type": report.index_type,
        "folder": report.folder,
        "chunks": report.chunks,
        "articles": report.articles,
        "build_index_wall_s": round(wall, 3),
        "encoded_this_build": encoder.encoded - encoded_before,
        "from_cache_this_build": encoder.cached - cached_before,
        "encoder_s_this_build": round(encoder.encode_s - encode_before, 3),
        "encode_step_wall_s": round(in_encoder, 3),
        "faiss_add_s": None if faiss_s is None else round(faiss_s, 3),
        "bm25_s": None if bm25_s is None else round(bm25_s, 3),
        "rest_s": round(wall - in_encoder - (faiss_s or 0.0) - (bm25_s or 0.0), 3),
        "disk_mib": _disk(report.folder),
    }


# --------------------------------------------------------------------------------------------------------------
# The query probe: a fresh process per index type


def _memory() -> dict[str, float]:
    """Resident memory of this process in MiB: RSS, its anonymous and file-backed parts, USS and PSS."""
    import psutil

    info = psutil.Process().memory_full_info()
    record = {"rss": info.rss / MIB, "uss": info.uss / MIB, "pss": getattr(info, "pss", 0) / MIB}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssFile", "RssShmem"):
                record[key[3:].lower()] = int(value.split()[0]) / 1024
    except (OSError, ValueError):
        pass
    return {key: round(value, 1) for key, value in record.items()}


def probe(index_root: Path, queries: list[Query], warmup: int = WARMUP_QUERIES) -> dict[str, Any]:
    """Load the current build as the service does and answer each query alone: encoder, then ``Retriever.run``."""
    import faiss
    import numpy as np

    from engine.models.registry import ModelRegistry
    from engine.retrieve.retriever import CANDIDATES_PER_HIT, Retriever
    from engine.settings import Settings

    memory = {"start": _memory()}
    settings = Settings()
    registry = ModelRegistry(settings)
    encoder = registry.encoder
    encoder.encode_queries(["warm up the encoder"])
    memory["encoder_loaded"] = _memory()

    retriever = Retriever.from_settings(registry, index_root)  # as engine.pipeline.Pipeline builds it
    start = time.perf_counter()
    index = retriever.reload()  # KBIndex.current(index_root, encoder.id)
    load_s = time.perf_counter() - start
    memory["index_loaded"] = _memory()

    top_k = settings.top_k_articles
    candidates = min(index.index.ntotal, top_k * CANDIDATES_PER_HIT)
    for q in queries[:warmup]:
        retriever.run(encoder.encode_queries([q.text]), [q.language], top_k, texts=[q.text])
    encode_s, search_s, faiss_s, rows, hits = [], [], [], [], []
    for q in queries:
        t0 = time.perf_counter()
        vector = encoder.encode_queries([q.text])
        t1 = time.perf_counter()
        found = retriever.run(vector, [q.language], top_k, texts=[q.text])[0]
        t2 = time.perf_counter()
        # The dense candidate search alone (inside run above); its top 10 rows are what recall compares.
        _, top = index.index.search(np.ascontiguousarray(vector, dtype=np.float32), candidates)
        t3 = time.perf_counter()
        encode_s.append(t1 - t0)
        search_s.append(t2 - t1)
        faiss_s.append(t3 - t2)
        rows.append([int(r) for r in top[0][:RECALL_AT] if r >= 0])
        hits.append([h.id for h in found])
    memory["after_queries"] = _memory()
    memory["peak_rss"] = round(high_water_mib() or 0.0, 1)
    return {
        "index_type": index.meta.get("index_type"),
        "ntotal": int(index.index.ntotal),
        "load_s": round(load_s, 3),
        "queries": len(queries),
        "warmup_queries": min(warmup, len(queries)),
        "top_k": top_k,
        "candidates": candidates,
        "retrieval_mode": settings.retrieval_mode,
        "faiss_threads": faiss.omp_get_max_threads(),
        "encoder_ms": summary_ms(encode_s),
        "search_ms": summary_ms(search_s),
        "faiss_search_ms": summary_ms(faiss_s),
        "end_to_end_ms": summary_ms([a + b for a, b in zip(encode_s, search_s, strict=True)]),
        "memory_mib": memory,
        "rows": rows,
        "hits": hits,
    }


def _probe_main() -> None:
    """Entry of the probe process: ``python -c ... INDEX_ROOT QUERIES.jsonl OUT.json``."""
    index_root, queries_path, out_path = (Path(a) for a in sys.argv[1:4])
    with queries_path.open(encoding="utf-8") as fh:
        queries = [Query(**json.loads(line)) for line in fh if line.strip()]
    result = probe(index_root, queries)
    out_path.write_text(json.dumps(result, ensure_ascii=False) + "\n", encoding="utf-8")


def run_probe(index_root: Path, queries_path: Path, out_path: Path) -> dict[str, Any]:
    code = "from bench.index_scale import _probe_main; _probe_main()"
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", code, str(index_root), str(queries_path), str(out_path)],
                          cwd=REPO_ROOT, env=env, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"query probe on {index_root} failed with exit code {proc.returncode} (output above)")
    result: dict[str, Any] = json.loads(out_path.read_text(encoding="utf-8"))
    return result


# --------------------------------------------------------------------------------------------------------------
# Figures


def recall(exact: list[list[Any]], approx: list[list[Any]]) -> float | None:
    """Mean share of the exact top list found in the approximate one (queries with an empty exact list skipped)."""
    shares = [len(set(e) & set(a)) / len(e) for e, a in zip(exact, approx, strict=True) if e]
    return round(sum(shares) / len(shares), 4) if shares else None


def _per(value: float | None, n: int, per: int) -> float | None:
    return None if value is None else round(value / n * per, 3)


def figures(n: int, encoding: dict[str, Any], builds: dict[str, Any], probes: dict[str, Any]) -> dict[str, Any]:
    """Per index type: build time per 10k chunks, latency, memory and disk, with linear extrapolations."""
    out: dict[str, Any] = {}
    for kind, b in builds.items():
        p = probes[kind]
        mem = p["memory_mib"]
        index_rss = mem["after_queries"]["rss"] - mem["encoder_loaded"]["rss"]
        fresh_build = encoding["encode_s"] + (b["faiss_add_s"] or 0.0) + (b["bm25_s"] or 0.0) + b["rest_s"]
        out[kind] = {
            "encode_s_per_10k": _per(encoding["encode_s"], n, 10_000),
            "faiss_add_s_per_10k": _per(b["faiss_add_s"], n, 10_000),
            "bm25_s_per_10k": _per(b["bm25_s"], n, 10_000),
            "rest_s_per_10k": _per(b["rest_s"], n, 10_000),
            "fresh_build_s": round(fresh_build, 2),
            "fresh_build_s_per_10k": _per(fresh_build, n, 10_000),
            "load_s": p["load_s"],
            "encoder_p50_ms": p["encoder_ms"]["p50_ms"],
            "encoder_p95_ms": p["encoder_ms"]["p95_ms"],
            "search_p50_ms": p["search_ms"]["p50_ms"],
            "search_p95_ms": p["search_ms"]["p95_ms"],
            "faiss_p50_ms": p["faiss_search_ms"]["p50_ms"],
            "faiss_p95_ms": p["faiss_search_ms"]["p95_ms"],
            "end_to_end_p50_ms": p["end_to_end_ms"]["p50_ms"],
            "end_to_end_p95_ms": p["end_to_end_ms"]["p95_ms"],
            "process_rss_mib": mem["after_queries"]["rss"],
            "process_peak_rss_mib": mem["peak_rss"],
            "encoder_loaded_rss_mib": mem["encoder_loaded"]["rss"],
            "index_rss_mib": round(index_rss, 1),
            "index_rss_anon_mib": round(mem["after_queries"].get("anon", 0) - mem["encoder_loaded"].get("anon", 0), 1),
            "index_rss_file_mib": round(mem["after_queries"].get("file", 0) - mem["encoder_loaded"].get("file", 0), 1),
            "disk_mib": b["disk_mib"]["total"],
            "index_rss_mib_per_100k": _per(index_rss, n, 100_000),
            "index_rss_mib_per_1m": _per(index_rss, n, 1_000_000),
            "disk_mib_per_100k": _per(b["disk_mib"]["total"], n, 100_000),
            "disk_mib_per_1m": _per(b["disk_mib"]["total"], n, 1_000_000),
        }
    return out


def _fmt(value: Any, digits: int = 1, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{unit}"
    return f"{value}{unit}"


def table(n: int, n_queries: int, figs: dict[str, Any], encoding: dict[str, Any], recall_10: float | None,
          article_overlap: float | None, cores: int | None) -> Table:
    kinds = list(figs)
    t = Table(title=f"KB index at scale: {n:,} chunks, {n_queries} queries, {cores} cores", title_justify="left")
    t.add_column("figure")
    for kind in kinds:
        t.add_column(kind, justify="right")

    def pair(a: str, b: str, digits: int = 1) -> list[str]:
        return [f"{_fmt(figs[k][a], digits)} / {_fmt(figs[k][b], digits)}" for k in kinds]

    def one(key: str, digits: int = 1) -> list[str]:
        return [_fmt(figs[k][key], digits) for k in kinds]

    source = "timed now" if not encoding["from_cache"] else f"{encoding['from_cache'] / n:.0%} cached"
    sections: list[tuple[str, list[tuple[str, list[str]]]]] = [
        ("build, s", [
            (f"encoding / 10k chunks ({source})", one("encode_s_per_10k", 2)),
            ("faiss add / 10k chunks", one("faiss_add_s_per_10k", 2)),
            ("BM25 build / 10k chunks", one("bm25_s_per_10k", 2)),
            ("rest (writes, hashing) / 10k", one("rest_s_per_10k", 2)),
            ("fresh build, total", one("fresh_build_s", 1)),
            ("index load (KBIndex.current)", one("load_s", 2)),
        ]),
        ("one query at a time, ms p50 / p95", [
            ("query encoder", pair("encoder_p50_ms", "encoder_p95_ms", 2)),
            ("Retriever.run", pair("search_p50_ms", "search_p95_ms", 2)),
            ("  faiss candidates alone", pair("faiss_p50_ms", "faiss_p95_ms", 2)),
            ("encoder + Retriever.run", pair("end_to_end_p50_ms", "end_to_end_p95_ms", 2)),
        ]),
        ("quality", [
            ("recall@10 vs flat (chunks)", [_fmt(recall_10, 3) if k == "hnsw" else "1 (exact)" for k in kinds]),
            ("top-k articles as flat's", [_fmt(article_overlap, 3) if k == "hnsw" else "-" for k in kinds]),
        ]),
        ("memory and disk, MiB", [
            ("process RSS after queries (peak)",
             [f"{_fmt(figs[k]['process_rss_mib'])} ({_fmt(figs[k]['process_peak_rss_mib'])})" for k in kinds]),
            ("  encoder + interpreter", one("encoder_loaded_rss_mib")),
            ("  index (anon / file-mapped)",
             [f"{_fmt(figs[k]['index_rss_mib'])} ({_fmt(figs[k]['index_rss_anon_mib'])} / "
              f"{_fmt(figs[k]['index_rss_file_mib'])})" for k in kinds]),
            ("index RSS / 100k, / 1M chunks*", pair("index_rss_mib_per_100k", "index_rss_mib_per_1m", 0)),
            ("on disk", one("disk_mib")),
            ("on disk / 100k, / 1M chunks*", pair("disk_mib_per_100k", "disk_mib_per_1m", 0)),
        ]),
    ]
    for title, rows in sections:
        t.add_section()
        t.add_row(f"[bold]{title}[/bold]", *[""] * len(kinds))
        for label, values in rows:
            t.add_row(label, *values)
    return t


def _index_types(value: str) -> list[str]:
    kinds = [k.strip() for k in value.split(",") if k.strip()]
    bad = [k for k in kinds if k not in INDEX_KINDS]
    if not kinds or bad or len(set(kinds)) != len(kinds):
        raise typer.BadParameter(f"a comma-separated subset of {','.join(INDEX_KINDS)}; got {value!r}")
    return kinds


def _settings_record() -> dict[str, Any]:
    from engine.settings import Settings

    settings = Settings()
    return {name: getattr(settings, name) for name in SETTINGS_RECORDED if hasattr(settings, name)}


@app.command()
def main(
    chunks: Annotated[int, typer.Option("--chunks", min=1, help="Distinct real text chunks in the KB.")] = 100_000,
    queries: Annotated[int, typer.Option("--queries", min=1, help="Real queries, each searched alone.")] = 500,
    index_types: Annotated[
        str, typer.Option("--index-types", help="Comma-separated: flat, hnsw (recall needs both).")
    ] = "flat,hnsw",
    cache_dir: Annotated[
        Path, typer.Option("--cache-dir", help="Passage vectors by (encoder id, passage hash); gitignored default.")
    ] = DEFAULT_CACHE,
    reencode: Annotated[
        bool, typer.Option("--reencode", help="Encode every chunk now: neither read nor write the cache.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the chunk and query draws.")] = 6,
    results_dir: Annotated[Path, typer.Option(help="Where the JSON result goes.")] = RESULTS_DIR,
) -> None:
    """Build the KB index over N real chunks with each index type; time it, query it, measure its memory."""
    from bench.throughput import _git, _load, _machine
    from engine.models.registry import ModelRegistry
    from engine.retrieve.analysis import analyse
    from engine.settings import Settings

    kinds = _index_types(index_types)
    started = datetime.now(UTC)
    machine, load = _machine(), {"start": _load()}
    if load["start"] and load["start"][0] > 0.5 * machine["cores"]:
        err.print(f"[yellow]note:[/yellow] load average {load['start'][0]} on {machine['cores']} cores: "
                  "figures will be noisy; run on an idle machine for the numbers you report")

    t0 = time.perf_counter()
    articles = draw_pool(chunks, seed)
    pool = describe_pool(articles)
    drawn = draw_queries(queries, seed)
    err.print(f"pool: {pool['chunks']:,} chunks in {pool['articles']:,} articles ({time.perf_counter() - t0:.1f} s), "
              f"languages {pool['by_language']}")
    if pool["chunks"] != chunks:  # the section markup must give back exactly the drawn chunks
        raise RuntimeError(f"articles were cut into {pool['chunks']} chunks, not {chunks}")

    encoder = ModelRegistry(Settings()).encoder
    cache = VectorCache(cache_dir.resolve(), encoder.id, on_disk=not reencode)
    caching = CachingEncoder(encoder, cache)
    err.print(f"encoder {encoder.id}; " + ("--reencode: cache not used" if reencode else
              f"{len(cache.vectors):,} passage vectors cached in {cache.folder}"))
    # BM25's analyser loads spaCy's stop lists and a stemmer per language on first use: a one-off cost that
    # would otherwise land in the first build's BM25 time only.
    start = time.perf_counter()
    for language in pool["by_language"]:
        analyse("warm up", language)
    analyser_warmup_s = round(time.perf_counter() - start, 2)

    builds: dict[str, Any] = {}
    probes: dict[str, Any] = {}
    hashes: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="sift-index-scale-") as tmp_name:
        tmp = Path(tmp_name)
        queries_path = tmp / "queries.jsonl"
        with queries_path.open("w", encoding="utf-8") as fh:
            for q in drawn:
                fh.write(json.dumps(asdict(q), ensure_ascii=False) + "\n")
        try:
            for i, kind in enumerate(kinds, start=1):
                err.print(f"[bold]{i}/{len(kinds)}[/bold] {kind}: build_index, then {len(drawn)} queries in a "
                          "fresh process")
                record = build(kind, articles, caching, tmp / kind)
                cache.flush()
                folder: Path = record.pop("folder")
                hashes[kind] = hashlib.sha256((folder / "passage_hashes.json").read_bytes()).hexdigest()
                builds[kind] = record
                load[f"after_build_{kind}"] = _load()
                probes[kind] = run_probe(tmp / kind, queries_path, tmp / f"probe-{kind}.json")
                load[f"after_queries_{kind}"] = _load()
        finally:
            cache.flush()
    if len(set(hashes.values())) > 1:
        raise RuntimeError("the index types were built over different chunk lists; recall would compare rows wrongly")

    pool_hashes = {_digest(t) for t in _passages_of(articles)}
    encoding = {
        "chunks": chunks,
        "encoded_this_run": caching.encoded,
        "passages": len(caching.seen),
        "from_cache": len(caching.seen) - caching.encoded,
        "encode_s_this_run": round(caching.encode_s, 3),
        "encode_s": round(sum(cache.seconds[h] for h in pool_hashes), 3),
        "cache_dir": None if reencode else str(cache.folder),
        "analyser_warmup_s": analyser_warmup_s,
    }
    encoding["chunks_per_s"] = round(chunks / encoding["encode_s"], 1) if encoding["encode_s"] else None
    figs = figures(chunks, encoding, builds, probes)
    recall_10 = article_overlap = None
    if "flat" in probes and "hnsw" in probes:
        recall_10 = recall(probes["flat"]["rows"], probes["hnsw"]["rows"])
        article_overlap = recall(probes["flat"]["hits"], probes["hnsw"]["hits"])
    for p in probes.values():
        p.pop("rows")
        p.pop("hits")

    # What a run at another size would take, from this run's per-chunk rates (encoding dominates; HNSW's add grows
    # a little faster than linearly).
    per_chunk_s = (encoding["encode_s"] + sum(f["fresh_build_s"] - encoding["encode_s"] for f in figs.values())) / chunks
    estimate = {size: round(per_chunk_s * size, 1) for size in (100_000, 1_000_000)}
    record_out = {
        "benchmark": "bench.index_scale",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {"chunks": chunks, "queries": queries, "index_types": kinds, "cache_dir": str(cache_dir),
                    "reencode": reencode, "seed": seed},
        "machine": machine,
        "load_average": load,
        "git": _git(),
        "encoder_id": encoder.id,
        "settings": _settings_record(),
        "pool": pool,
        "queries": {"n": len(drawn), "by_source": dict(Counter(q.source for q in drawn)),
                    "by_language": dict(Counter(q.language for q in drawn).most_common())},
        "encoding": encoding,
        "builds": builds,
        "probes": probes,
        "hnsw_recall_at_10_vs_flat": recall_10,
        "hnsw_top_k_articles_shared_with_flat": article_overlap,
        "figures": figs,
        "extrapolated": {
            "note": "linear in the number of chunks from this run's per-chunk figures: memory and disk per 100k "
                    "and per 1M chunks, and the build time of every index type asked for (encoding once, as the "
                    "cache does); HNSW's build grows slightly faster than linearly, flat search time linearly",
            "build_all_types_s": estimate,
        },
    }
    path = write_result(record_out, results_dir, "index_scale-", started)

    out.print(table(chunks, len(drawn), figs, encoding, recall_10, article_overlap, machine["cores"]))
    out.print(f"encoding: {encoding['chunks_per_s']} chunks/s, mean passage {pool['mean_passage_chars']} chars; "
              f"at this rate 100k chunks take ~{estimate[100_000] / 60:.0f} min to build "
              f"({' + '.join(kinds)}), 1M ~{estimate[1_000_000] / 3600:.1f} h")
    out.print("* extrapolated linearly from this run's per-chunk figures; fixed costs make small runs overstate them")
    if encoding["from_cache"]:
        out.print(f"{encoding['from_cache']:,} of {chunks:,} passage vectors came from the cache: their encoding time "
                  "is the one measured when they were first encoded (--reencode to time all of them now)")
    out.print(f"written {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")


def _passages_of(articles: list[Article]) -> Iterator[str]:
    from engine.kb.articles import chunk_article
    from engine.retrieve.index import passage_text

    for article in articles:
        for chunk in chunk_article(article):
            yield passage_text(article, chunk)


if __name__ == "__main__":
    app()
