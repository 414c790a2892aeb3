"""Head kinds, calibration and the out-of-scope rule on a small real subset of CLINC150.

Six banking intents (20 training queries each) plus CLINC's own out-of-scope
queries: enough to exercise every head kind, a save/load round trip and the
out-of-scope examples path through `sift train`'s code, in seconds.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from engine.classify.classifier import predictions
from engine.models.heads import Head, scope_scores
from engine.models.registry import ModelRegistry
from engine.pipeline import Pipeline
from engine.route import Router, load_policy
from engine.settings import Settings
from engine.training.data import read_labelled
from engine.training.fit import HEAD_KINDS, fit_head, fit_inverse_temperature
from engine.training.heads import split_out_of_scope, train_heads
from engine.types import Ticket
from eval.datasets import clinc150
from tests.conftest import require_datasets
from tests.route.test_router import make

pytestmark = pytest.mark.slow

INTENTS = ("balance", "transfer", "freeze_account", "pin_change", "bill_due", "report_fraud")
PER_INTENT = 20
OOS_TRAIN = 30


def subset(split: str, per_intent: int | None) -> tuple[list[str], list[str]]:
    kept: dict[str, list[str]] = defaultdict(list)
    for text, label in clinc150(split):
        if label in INTENTS and (per_intent is None or len(kept[label]) < per_intent):
            kept[label].append(text)
    texts = [t for label in INTENTS for t in kept[label]]
    return texts, [label for label in INTENTS for _ in kept[label]]


@pytest.fixture(scope="module")
def data(registry: ModelRegistry) -> dict[str, tuple[list[str], list[str], np.ndarray]]:
    require_datasets()
    out = {}
    for name, (texts, labels) in {
        "train": subset("train", PER_INTENT),
        "test": subset("test", None),
        "oos_train": ([t for t, _ in clinc150("oos_train")][:OOS_TRAIN], []),
        "oos_test": ([t for t, _ in clinc150("oos_test")][:100], []),
    }.items():
        out[name] = (texts, labels, registry.encoder.encode_queries(texts))
    return out


def accuracy(head: Head, x: np.ndarray, truth: list[str]) -> float:
    return float((np.asarray(head.labels)[head.predict_proba(x).argmax(axis=1)] == np.asarray(truth)).mean())


@pytest.mark.parametrize("kind", HEAD_KINDS)
def test_every_kind_fits_calibrates_and_round_trips(
    kind: str, data: dict, registry: ModelRegistry, tmp_path: Path
) -> None:
    texts, labels, x = data["train"]
    _, test_y, x_test = data["test"]
    head = fit_head("topic", x, labels, texts, registry.encoder.id, kind=kind)
    assert head.meta.kind == kind and head.labels == tuple(sorted(INTENTS))
    assert head.meta.metrics["holdout_accuracy"] > 0.8 and head.meta.metrics["holdout_size"] == len(labels)
    assert accuracy(head, x_test, test_y) > 0.85
    probs = head.predict_proba(x_test)
    assert np.allclose(probs.sum(axis=1), 1.0) and (probs >= 0).all()
    # No out-of-scope examples: the default weight, and about the budgeted share of held-out tickets rejected.
    assert head.meta.scope_oos_weight == 0.0 and head.meta.n_out_of_scope == 0
    assert 0.0 < head.meta.metrics["scope_rejected_in_scope"] < 0.15

    loaded = Head.load(head.save(tmp_path / head.meta.version), registry.encoder.id)
    assert loaded.meta == head.meta
    assert np.allclose(loaded.predict_proba(x_test), probs)
    assert (loaded.in_scope(x_test) == head.in_scope(x_test)).all()


def test_out_of_scope_examples_teach_the_rule(data: dict, registry: ModelRegistry, tmp_path: Path) -> None:
    texts, labels, x = data["train"]
    oos_texts, _, x_oos = data["oos_train"]
    _, test_y, x_test = data["test"]
    x_oos_test = data["oos_test"][2]
    plain = fit_head("topic", x, labels, texts, registry.encoder.id)
    taught = fit_head(
        "topic", x, labels, texts, registry.encoder.id, out_of_scope=x_oos, out_of_scope_texts=oos_texts
    )
    meta = taught.meta
    assert meta.n_out_of_scope == OOS_TRAIN and meta.data_hash != plain.meta.data_hash
    assert meta.labels == plain.meta.labels  # out-of-scope examples are no class
    assert meta.metrics["scope_oos_recall"] >= 0.5
    # The rule keeps to its in-scope budget on unseen data and rejects most unseen out-of-scope queries.
    assert taught.in_scope(x_test).mean() > 0.85
    assert (~taught.in_scope(x_oos_test)).mean() > 0.5
    assert (~taught.in_scope(x_oos_test)).mean() >= (~plain.in_scope(x_oos_test)).mean()

    loaded = Head.load(taught.save(tmp_path / meta.version), registry.encoder.id)
    assert len(loaded.oos_support) == (OOS_TRAIN if meta.scope_oos_weight else 0)
    assert (loaded.in_scope(x_oos_test) == taught.in_scope(x_oos_test)).all()


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def test_sift_train_takes_out_of_scope_rows_and_the_pipeline_says_null(
    data: dict, registry: ModelRegistry, tmp_path: Path
) -> None:
    texts, labels, _ = data["train"]
    oos_texts = data["oos_train"][0]
    rows = [{"text": t, "topic": y} for t, y in zip(texts, labels, strict=True)]
    rows += [{"text": t, "topic": "out_of_scope"} for t in oos_texts]
    settings = Settings(data_dir=tmp_path / "data")
    local = ModelRegistry(settings)
    local.__dict__["encoder"] = registry.encoder  # share the session's loaded encoder
    [report] = train_heads(local, read_labelled(write_rows(tmp_path / "t.jsonl", rows), "text", ["topic"]),
                           {"topic": "topic"})
    assert report.counts["out_of_scope"] == OOS_TRAIN and set(report.counts) == {*INTENTS, "out_of_scope"}
    head = local.require_head("topic")
    assert head.meta.n_out_of_scope == OOS_TRAIN and "out_of_scope" not in head.labels

    # What the service's classifier and router do with it: topic null, handoff reason out_of_scope.
    queries = ["what is the weather going to be like tomorrow", "how much money is in my checking account"]
    vectors = registry.encoder.encode_queries(queries)
    policy = load_policy(settings.routing_file)
    topics = predictions(head, vectors, policy.thresholds.out_of_scope, check_scope=True)
    assert topics[0].label is None and topics[1].label == "balance"
    router = Router(policy)
    _, handoff = router.decide(make(topic=topics[0]))
    assert handoff.required and "out_of_scope" in handoff.reasons


def test_an_empty_label_can_mark_out_of_scope_rows(tmp_path: Path) -> None:
    rows = [{"text": "a", "topic": "x"}, {"text": "b", "topic": ""}, {"text": "c", "topic": "Out_Of_Scope"}]
    data = read_labelled(write_rows(tmp_path / "t.jsonl", rows), "text", ["topic"])
    assert split_out_of_scope(data, "topic", "out_of_scope") == (["a"], ["x"], ["c"])
    assert split_out_of_scope(data, "topic", "") == (["a", "c"], ["x", "Out_Of_Scope"], ["b"])


def test_temperature_is_recovered_from_held_out_predictions() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4000, 5)) * 3
    true_probs = np.exp(logits / 2.0) / np.exp(logits / 2.0).sum(axis=1, keepdims=True)
    truth = np.asarray([rng.choice(5, p=p) for p in true_probs])
    overconfident = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    beta = fit_inverse_temperature(overconfident, truth)
    assert 0.4 < beta < 0.6


def test_heads_saved_before_the_scope_weights_still_load(data: dict, registry: ModelRegistry, tmp_path: Path) -> None:
    texts, labels, x = data["train"]
    head = fit_head("topic", x, labels, texts, registry.encoder.id, kind="logreg")
    folder = head.save(tmp_path / "old")
    meta = json.loads((folder / "meta.json").read_text())
    for key in ("scope_confidence_weight", "scope_oos_weight", "scope_logit_weight", "n_out_of_scope"):
        del meta[key]
    (folder / "meta.json").write_text(json.dumps(meta))
    old = Head.load(folder, registry.encoder.id)
    # The old rule: neighbour similarity alone against the stored threshold.
    assert old.meta.scope_confidence_weight == 0.0 and old.meta.n_out_of_scope == 0
    assert head.meta.scope_logit_weight > 0.0 and old.meta.scope_logit_weight == 0.0
    assert np.allclose(old.scope_score(x), scope_scores(x, head.support))
    assert np.allclose(old.predict_proba(x), head.predict_proba(x))


def test_the_pipeline_hands_an_out_of_scope_ticket_over(pipeline: Pipeline) -> None:
    """The default heads (trained by the first-run bootstrap on the demo tickets) know no recipes."""
    tickets = [Ticket(text="Can you recommend a good pizza recipe for tonight?"),
               Ticket(text="My parcel has not arrived yet, the tracking has not moved for a week.")]
    outside, inside = pipeline.run(tickets, ["oos", "in"])
    assert outside.topic is not None and outside.topic.label is None
    assert outside.handoff.required and "out_of_scope" in outside.handoff.reasons
    assert inside.topic is not None and inside.topic.label == "delivery"
    assert "out_of_scope" not in inside.handoff.reasons
