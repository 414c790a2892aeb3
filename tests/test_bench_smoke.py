"""The speed benchmark's parts run end to end on a handful of tickets (figures are not checked: too few)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.measure import percentile
from bench.peer import default_encoder_path, is_checkpoint
from bench.report import check_targets, latency_by_group, per_ticket_ratios
from bench.tickets import DATASETS, draw_tickets
from engine.models.registry import ModelRegistry

CHECKPOINT = default_encoder_path()
needs_datasets = pytest.mark.skipif(not DATASETS.is_dir(), reason=f"{DATASETS} is missing (shared/datasets)")


def test_percentile_and_targets() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([5.0], 95) == 5.0
    verdict = {t["figure"]: t["met"] for t in check_targets({"batch_vs_peer": 6.0, "p50_over_encoder": 2.0})}
    assert verdict["batch_vs_peer"] is True and verdict["p50_over_encoder"] is False
    assert verdict["sift_batch_tickets_per_s"] is None


def test_latency_is_compared_ticket_by_ticket() -> None:
    # A long ticket slow through both the API and the encoder is not an outlier: every ratio here is 2.
    ratios = per_ticket_ratios([20.0, 200.0, 40.0], [10.0, 100.0, 20.0])
    assert ratios == {"p50": 2.0, "p95": 2.0}
    assert per_ticket_ratios([], []) == {"p50": None, "p95": None}


def test_latency_by_source_splits_the_ratio_by_ticket_source() -> None:
    groups = latency_by_group(
        [30.0, 90.0, 20.0, 80.0], [10.0, 60.0, 10.0, 40.0], ["short", "long", "short", "long"]
    )
    assert groups["short"]["n"] == 2 and groups["short"]["p50_over_encoder"] == 2.5
    assert groups["long"]["encoder_p50_ms"] == 50.0 and groups["long"]["api_minus_encoder_p50_ms"] == 35.0
    assert groups["long"]["p50_over_encoder"] == 1.75


def test_setting_ab_compares_values_round_by_round() -> None:
    from bench.setting_ab import _by_source, summarise

    assert _by_source([10.0, 50.0, 30.0], ["a", "b", "a"]) == {"a": 20.0, "b": 50.0}
    rounds = [{"1": {"a": 10.0}, "2": {"a": 12.0}}, {"1": {"a": 14.0}, "2": {"a": 13.0}}]
    summary = summarise(rounds, ("1", "2"))["a"]
    assert summary["1 mean p50 ms"] == 12.0 and summary["2 mean p50 ms"] == 12.5
    assert summary["rounds 1 faster"] == 1 and summary["rounds"] == 2


@needs_datasets
def test_draw_is_deterministic_and_a_prefix_of_larger_draws() -> None:
    small, large = draw_tickets(6), draw_tickets(40)
    assert small == large[:6] == draw_tickets(6)
    assert {t.source for t in small} == {"bitext-customer-support", "tickets-multilang"}


@pytest.mark.slow
@needs_datasets
@pytest.mark.skipif(
    not is_checkpoint(CHECKPOINT),
    reason=f"no converted encoder at {CHECKPOINT}: `sift models convert` (run by set-up) writes it",
)
def test_peer_and_sift_in_process_on_five_tickets(ready_registry: ModelRegistry, tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers", reason="the peer needs sentence-transformers")
    from bench.peer import run_peer
    from bench.sift_inproc import encoder_floor, run_sift_batch

    tickets = draw_tickets(5)
    peer = run_peer(tickets, CHECKPOINT, threads=2, demo_limit=24, sentiment_per_class=2)
    assert peer["tickets"] == 5 and peer["tickets_per_s"] > 0
    assert set(peer["stage_p50_ms"]) == {"language", "sentiment", "topic", "retrieve", "entities"}

    batch = run_sift_batch(tickets, batch_size=2, warmup_tickets=1)
    assert batch["tickets"] == 5 and batch["tickets_per_s"] > 0
    assert batch["failed_stages"] == {}
    assert "encode" in batch["stage_ms_per_ticket"]

    floor = encoder_floor(tickets[:3])
    assert floor["n"] == 3 and 0 < floor["p50_ms"] <= floor["max_ms"]


# bench.index_scale: the KB index at scale (issues #5, #6)


class _FakeEncoder:
    """Deterministic unit vectors from a text's hash: enough to exercise the index builds without models."""

    id = "fake-encoder/test"
    dim = 8

    def __init__(self) -> None:
        self.calls = 0

    def _vectors(self, texts: list[str]) -> np.ndarray:
        rows = [np.random.default_rng(abs(hash(t)) % 2**32).standard_normal(self.dim) for t in texts]
        out = np.asarray(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._vectors(texts)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        self.calls += len(texts)
        return self._vectors(texts)


def test_index_scale_recall_cache_and_build_timers(tmp_path: Path) -> None:
    from bench.index_scale import CachingEncoder, Draft, VectorCache, _article, build, recall

    assert recall([[1, 2, 3, 4]], [[4, 3, 9, 8]]) == 0.5
    assert recall([[]], [[1]]) is None
    articles = [_article(Draft("src", str(i), f"Title {i}", "en", tuple(f"text {i}.{j}" for j in range(3))))
                for i in range(4)]

    fake = _FakeEncoder()
    cache = VectorCache(tmp_path / "cache", fake.id)
    caching = CachingEncoder(fake, cache)
    flat = build("flat", articles, caching, tmp_path / "flat")
    cache.flush()
    assert flat["chunks"] == 12 and flat["encoded_this_build"] == 12 and fake.calls == 12
    # the faiss add and the BM25 build are timed apart inside build_index
    assert flat["faiss_add_s"] is not None and flat["bm25_s"] is not None and flat["disk_mib"]["total_bytes"] > 0
    hnsw = build("hnsw", articles, caching, tmp_path / "hnsw")
    assert hnsw["index_type"] == "hnsw" and hnsw["from_cache_this_build"] == 12 and fake.calls == 12

    again = VectorCache(tmp_path / "cache", fake.id)  # read back from disk, with the seconds that made each vector
    assert len(again.vectors) == 12 and set(again.seconds) == set(again.vectors)


@pytest.mark.slow
@needs_datasets
def test_index_scale_pool_is_deterministic_distinct_and_a_prefix() -> None:
    from bench.index_scale import describe_pool, draw_pool, draw_queries
    from engine.kb.articles import chunk_article

    small, large = draw_pool(120), draw_pool(400)
    chunks = [c.text for a in large for c in chunk_article(a)]
    assert len(chunks) == 400 and len({c.casefold() for c in chunks}) == 400
    assert [c.text for a in small for c in chunk_article(a)] == chunks[:120]
    assert len({a.id for a in large}) == len(large)
    described = describe_pool(large)
    assert described == describe_pool(draw_pool(400)) and len(described["by_language"]) > 3
    queries = draw_queries(16)
    assert queries == draw_queries(16) and {q.source for q in queries} == {"xquad", "banking77"}


@pytest.mark.slow
@needs_datasets
def test_index_scale_end_to_end_on_a_tiny_pool(registry: ModelRegistry, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bench.index_scale import app

    args = ["--chunks", "40", "--queries", "8", "--cache-dir", str(tmp_path / "cache"),
            "--results-dir", str(tmp_path / "results")]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(app, args)  # every passage vector now comes from the cache
    assert second.exit_code == 0, second.output
    results = sorted((tmp_path / "results").glob("index_scale-*.json"))
    record = json.loads(results[-1].read_text(encoding="utf-8"))
    encoding = record["encoding"]
    assert encoding["from_cache"] == encoding["passages"] >= 40 and encoding["encode_s"] > 0
    assert set(record["figures"]) == {"flat", "hnsw"}
    assert 0 <= record["hnsw_recall_at_10_vs_flat"] <= 1
    # Every section is in the index, and with sentence windows on (the default) its windows too.
    assert record["probes"]["flat"]["ntotal"] == record["probes"]["hnsw"]["ntotal"] >= 40
    for kind in ("flat", "hnsw"):
        probe = record["probes"][kind]
        assert probe["index_type"] == kind and probe["search_ms"]["n"] == 8
        assert record["figures"][kind]["process_rss_mib"] > record["figures"][kind]["index_rss_mib"] > 0


@pytest.mark.slow
@needs_datasets
def test_encoder_ceiling_bounds_the_encoder_it_measures(registry: ModelRegistry, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bench.encoder_ceiling import app

    result = CliRunner().invoke(app, ["--tickets", "24", "--repeats", "3", "--results-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    figures = json.loads(next(tmp_path.glob("encoder_ceiling-*.json")).read_text(encoding="utf-8"))["figures"]
    assert figures["tickets"] == 24 and figures["tokens_per_ticket"] > 2
    # The ceiling leaves out attention, norms and tokenising: the encoder doing all of it cannot be faster.
    assert 0 < figures["encoder_tickets_per_s"] < figures["ceiling_tickets_per_s"]
    assert figures["target_over_ceiling"] == round(200 / figures["ceiling_tickets_per_s"], 2)
