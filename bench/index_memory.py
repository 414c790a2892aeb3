"""Memory of serving processes over a 100k-section KB: the in-heap layout against the mapped one (issue #20).

    .venv/bin/python -m bench.index_memory --chunks 100000

1. The KB: ``--chunks`` distinct real text chunks from shared/datasets (``bench.index_scale.draw_pool``), built
   with ``build_index`` (what `sift index` runs). Encoding 100k sections and their windows takes over an hour on
   two cores and memory does not depend on what the vectors say, so by default each passage gets a stand-in
   vector: a unit vector drawn from its hash (``--vectors encoder`` encodes for real, through index_scale's cache).
   Sizes, the search's work and every memory figure are those of real vectors; the rankings are not.
2. Two pairs of processes, one pair after the other, each process like a service worker: the real encoder loaded,
   the build loaded by the retriever, ``--queries`` real queries answered one at a time (XQuAD in seven
   languages, BANKING77). The first pair loads the build the pre-#20 way (``bench.legacy_index``: every article
   and section a Python object), the second as Sift does now (``KBIndex``: mapped files). Both of a pair run at
   once, like two workers on one machine.
3. While both of a pair are alive, after their queries, each one's RSS, USS (memory it alone holds) and PSS (its
   share of what the two share) are read from outside, and its anonymous and file-backed RSS from inside. The
   index's part is the RSS after the queries minus the RSS with only the encoder loaded.
Also checks that both layouts returned the same articles for every query. Writes
bench/results/index_memory-<UTC timestamp>.json and prints a table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.measure import MIB, RESULTS_DIR, summary_ms, write_result
from bench.tickets import REPO_ROOT

LAYOUTS = ("legacy", "mapped")
PAIR = 2
BUDGET_MIB = 1536.0


class StandInEncoder:
    """Unit vectors drawn from each passage's hash, under the real encoder's id and size (see the module doc)."""

    def __init__(self, encoder_id: str, dim: int) -> None:
        self.id = encoder_id
        self.dim = dim

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
            v = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            out[i] = v / np.linalg.norm(v)
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self.encode_passages(texts)


def _memory_inside() -> dict[str, float]:
    from bench.index_scale import _memory

    return _memory()


def probe(layout: str, index_root: Path, queries_path: Path, out_path: Path, release: Path) -> None:
    """One worker-like process: encoder, build, queries; then it waits (alive) until ``release`` exists."""
    from bench.index_scale import Query
    from bench.legacy_index import LegacyRetriever
    from engine.models.registry import ModelRegistry
    from engine.retrieve.retriever import Retriever
    from engine.settings import Settings

    with queries_path.open(encoding="utf-8") as fh:
        queries = [Query(**json.loads(line)) for line in fh if line.strip()]
    settings = Settings()
    registry = ModelRegistry(settings)
    encoder = registry.encoder
    encoder.encode_queries(["warm up the encoder"])
    memory = {"encoder_loaded": _memory_inside()}
    cls = LegacyRetriever if layout == "legacy" else Retriever
    retriever = cls.from_settings(registry, index_root)
    start = time.perf_counter()
    retriever.reload()
    load_s = time.perf_counter() - start
    memory["index_loaded"] = _memory_inside()
    retriever.warm_up()  # as the service does: analysers of every language, the answer-confidence model
    memory["warmed_up"] = _memory_inside()
    top_k = settings.top_k_articles
    seconds, hits = [], []
    for q in queries:
        vector = encoder.encode_queries([q.text])
        t0 = time.perf_counter()
        found = retriever.run(vector, [q.language], top_k, texts=[q.text])[0]
        seconds.append(time.perf_counter() - t0)
        hits.append([h.id for h in found])
    memory["after_queries"] = _memory_inside()
    result = {"layout": layout, "pid": os.getpid(), "load_s": round(load_s, 2), "search_ms": summary_ms(seconds),
              "memory_mib": memory, "hits": hits}
    tmp = out_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    tmp.replace(out_path)
    while not release.exists():
        time.sleep(0.2)


def _outside(pid: int) -> dict[str, float]:
    import psutil

    info = psutil.Process(pid).memory_full_info()
    return {"rss": round(info.rss / MIB, 1), "uss": round(info.uss / MIB, 1), "pss": round(info.pss / MIB, 1)}


def run_pair(layout: str, index_root: Path, queries_path: Path, tmp: Path) -> list[dict[str, Any]]:
    """``PAIR`` probes of one layout at once; each one's memory read while all are alive."""
    release = tmp / f"release-{layout}"
    outs = [tmp / f"{layout}-{i}.json" for i in range(PAIR)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    procs = [
        subprocess.Popen([sys.executable, "-m", "bench.index_memory", "--probe", layout, str(index_root),
                          str(queries_path), str(out), str(release)], cwd=REPO_ROOT, env=env)
        for out in outs
    ]
    try:
        while not all(out.exists() for out in outs):
            for proc in procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"a {layout} probe exited with {proc.returncode} (its output is above)")
            time.sleep(0.5)
        results = [json.loads(out.read_text(encoding="utf-8")) for out in outs]
        for result, proc in zip(results, procs, strict=True):
            result["with_both_alive"] = _outside(proc.pid)
    finally:
        release.touch()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return results


def figures(results: list[dict[str, Any]]) -> dict[str, Any]:
    first, second = results
    mem = [r["memory_mib"] for r in results]
    return {
        "rss_mib": [r["with_both_alive"]["rss"] for r in results],
        "uss_mib": [r["with_both_alive"]["uss"] for r in results],
        "pss_mib": [r["with_both_alive"]["pss"] for r in results],
        "encoder_rss_mib": [m["encoder_loaded"]["rss"] for m in mem],
        "index_rss_mib": [round(m["after_queries"]["rss"] - m["encoder_loaded"]["rss"], 1) for m in mem],
        "index_anon_mib": [round(m["after_queries"].get("anon", 0) - m["encoder_loaded"].get("anon", 0), 1)
                           for m in mem],
        "index_file_mib": [round(m["after_queries"].get("file", 0) - m["encoder_loaded"].get("file", 0), 1)
                           for m in mem],
        "load_s": [r["load_s"] for r in results],
        "search_p50_ms": [r["search_ms"]["p50_ms"] for r in results],
        "search_p95_ms": [r["search_ms"]["p95_ms"] for r in results],
        "second_worker_uss_mib": second["with_both_alive"]["uss"],
    }


def main(argv: list[str] | None = None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--probe":
        layout, root, queries, out, release = sys.argv[2:7]
        probe(layout, Path(root), Path(queries), Path(out), Path(release))
        return 0
    from bench.index_scale import DEFAULT_CACHE, CachingEncoder, VectorCache, describe_pool, draw_pool, draw_queries
    from bench.throughput import _git, _load, _machine
    from engine.models.registry import ModelRegistry
    from engine.retrieve.index import build_index
    from engine.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--vectors", choices=("stand-in", "encoder"), default="stand-in")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--build-into", type=Path, help="Only build the KB, into this index root (a data "
                        "directory's index/ folder), and stop: for `bench.load --data-dir` on a 100k KB.")
    args = parser.parse_args(argv)
    if args.chunks < 1 or args.queries < 1:
        parser.error("--chunks and --queries must be at least 1")

    started = datetime.now(UTC)
    machine, load = _machine(), {"start": _load()}
    articles = draw_pool(args.chunks, args.seed)
    pool = describe_pool(articles)
    drawn = draw_queries(args.queries, args.seed)
    settings = Settings()
    real = ModelRegistry(settings).encoder
    if args.vectors == "encoder":
        encoder: Any = CachingEncoder(real, VectorCache(DEFAULT_CACHE, real.id))
    else:
        encoder = StandInEncoder(real.id, real.dim)
    del real
    if args.build_into is not None:
        report = build_index(encoder, articles, args.build_into, window_sentences=settings.window_sentences)
        print(f"built {report.chunks:,} sections + {report.windows:,} windows ({args.vectors} vectors) in "
              f"{report.folder}")
        return 0
    with tempfile.TemporaryDirectory(prefix="sift-index-memory-") as tmp_name:
        tmp = Path(tmp_name)
        print(f"building {pool['chunks']:,} chunks in {pool['articles']:,} articles ({args.vectors} vectors)",
              file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        report = build_index(encoder, articles, tmp / "index", window_sentences=settings.window_sentences)
        build_s = time.perf_counter() - t0
        disk = {p.name: round(p.stat().st_size / MIB, 1) for p in report.folder.iterdir() if p.is_file()}
        queries_path = tmp / "queries.jsonl"
        queries_path.write_text("".join(json.dumps(asdict(q), ensure_ascii=False) + "\n" for q in drawn),
                                encoding="utf-8")
        pairs = {}
        for layout in LAYOUTS:
            print(f"{layout}: {PAIR} processes at once, {len(drawn)} queries each", file=sys.stderr, flush=True)
            pairs[layout] = run_pair(layout, tmp / "index", queries_path, tmp)
            load[f"after_{layout}"] = _load()
    same = all(r["hits"] == pairs["legacy"][0]["hits"] for rs in pairs.values() for r in rs)
    figs = {layout: figures(results) for layout, results in pairs.items()}
    for results in pairs.values():
        for r in results:
            r.pop("hits")
    record = {
        "benchmark": "bench.index_memory",
        "started_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "machine": machine, "load_average": load, "git": _git(), "pool": pool,
        "build": {"index_type": report.index_type, "chunks": report.chunks, "windows": report.windows,
                  "seconds": round(build_s, 1), "disk_mib": disk},
        "same_hits_in_both_layouts": same,
        "figures": figs,
        "probes": pairs,
    }
    path = write_result(record, args.results_dir, "index_memory-", started)
    print(f"{report.chunks:,} sections + {report.windows:,} windows ({report.index_type}), {args.vectors} vectors, "
          f"{len(drawn)} queries; {machine['cores']} cores, load {load['start']}")
    print(f"{'per process, two at once':34} {'legacy (in heap)':>22} {'mapped':>22}")
    rows = (("RSS, MiB", "rss_mib"), ("USS (its own), MiB", "uss_mib"), ("PSS, MiB", "pss_mib"),
            ("  encoder + interpreter RSS", "encoder_rss_mib"), ("  index RSS", "index_rss_mib"),
            ("  index anonymous (heap)", "index_anon_mib"), ("  index file-backed (shared)", "index_file_mib"),
            ("load, s", "load_s"), ("Retriever.run p50, ms", "search_p50_ms"), ("Retriever.run p95, ms", "search_p95_ms"))
    for label, key in rows:
        cells = [" / ".join(f"{v:,.1f}" for v in figs[layout][key]) for layout in LAYOUTS]
        print(f"{label:34} {cells[0]:>22} {cells[1]:>22}")
    worst = max(figs["mapped"]["rss_mib"])
    print(f"mapped: largest RSS {worst:,.0f} MiB ({'within' if worst <= BUDGET_MIB else 'over'} the 1.5 GiB budget); "
          f"second worker's own memory (USS) {figs['mapped']['second_worker_uss_mib']:,.0f} MiB against "
          f"{figs['legacy']['second_worker_uss_mib']:,.0f} in heap; same articles for every query: {same}")
    print(f"written {path}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
