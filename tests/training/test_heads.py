"""Training heads on a small real subset round-trips through save, activate, load and reload."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import InvalidInput, ModelError
from engine.models.heads import Head, activate, active_version
from engine.models.registry import ModelRegistry
from engine.settings import REPO_ROOT, Settings
from engine.training.data import read_labelled
from engine.training.heads import train_heads

DEMO = REPO_ROOT / "data" / "demo_tickets.jsonl"


def subset(tmp_path: Path, per_topic: int = 12) -> Path:
    rows = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines()]
    kept: dict[str, int] = {}
    out = []
    for row in rows:
        if row["topic"] != "out_of_scope" and kept.get(row["topic"], 0) < per_topic:
            kept[row["topic"]] = kept.get(row["topic"], 0) + 1
            out.append(row)
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in out), encoding="utf-8")
    return path


@pytest.mark.slow
def test_train_save_activate_load_and_roll_back(tmp_path: Path, registry: ModelRegistry) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    local = ModelRegistry(settings)
    local.__dict__["encoder"] = registry.encoder  # share the session's loaded encoder
    data = read_labelled(subset(tmp_path), "text", ["topic"], subject_column="subject")

    [first] = train_heads(local, data, {"topic": "topic"})
    assert first.counts and set(first.counts) == {"account", "billing", "delivery", "returns", "technical", "privacy"}
    assert active_version(settings.heads_dir, "topic") == first.version
    head = local.require_head("topic")
    vector = registry.encoder.encode_queries(["Where is my parcel? Tracking has not moved for a week."])
    assert head.language_means is not None  # centred by default: the head reads features, not raw vectors
    assert head.labels[int(head.predict_proba(head.features(vector, ["en"])).argmax())] == "delivery"

    loaded = Head.load(settings.heads_dir / "topic" / first.version, registry.encoder.id)
    assert loaded.meta.version == first.version
    assert loaded.meta.n_examples == 72 and len(loaded.meta.data_hash) == 16
    with pytest.raises(ModelError, match="encoder"):
        Head.load(settings.heads_dir / "topic" / first.version, "another-encoder")

    [second] = train_heads(local, read_labelled(subset(tmp_path, 10), "text", ["topic"]), {"topic": "topic"})
    assert second.version != first.version
    assert local.require_head("topic").meta.version == second.version
    activate(settings.heads_dir, "topic", first.version)
    local.reload_heads()
    assert local.require_head("topic").meta.version == first.version
    assert local.head("urgency") is None


def test_malformed_files_are_refused_with_the_reason(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no rows"):
        read_labelled(empty, "text", ["topic"])
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("body,topic\nhello,a\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="no column 'text'"):
        read_labelled(wrong, "text", ["topic"])
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text,topic\ncaf\xe9,a\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="UTF-8"):
        read_labelled(latin, "text", ["topic"])
    odd = tmp_path / "data.xml"
    odd.write_text("<x/>", encoding="utf-8")
    with pytest.raises(InvalidInput, match="unsupported"):
        read_labelled(odd, "text", ["topic"])


def test_fit_head_refuses_single_example_classes(tmp_path: Path, registry: ModelRegistry) -> None:
    # The guard under train_heads, which leaves such classes out before fitting.
    from engine.training.fit import fit_head

    vectors = registry.encoder.encode_queries(["a b c", "d e f", "g h i"])
    with pytest.raises(InvalidInput, match="at least 2 examples"):
        fit_head("topic", vectors, ["x", "x", "y"], ["a b c", "d e f", "g h i"], registry.encoder.id)


@pytest.mark.slow
def test_a_rare_class_is_left_out_with_a_warning_and_unrouted_labels_are_named(
    tmp_path: Path, registry: ModelRegistry
) -> None:
    """A real export has rare classes and its own labels: training goes on and says what it did."""
    path = subset(tmp_path, per_topic=6)
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    rows.append({"text": "Do you sell gift cards for birthdays?", "topic": "gift_cards", "urgency": "low"})
    rows.append({"text": "Can I pay with a voucher?", "topic": "vouchers", "urgency": "low"})
    rows.append({"text": "Is a voucher valid online?", "topic": "vouchers", "urgency": "low"})
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    local = ModelRegistry(Settings(data_dir=tmp_path / "data", encoder_dir=registry.settings.encoder_dir))
    [topic, urgency] = train_heads(
        local, read_labelled(path, "text", ["topic", "urgency"]), {"topic": "topic", "urgency": "urgency"}
    )
    head = local.require_head("topic")
    assert "gift_cards" not in head.labels and "gift_cards" not in topic.counts and "vouchers" in head.labels
    assert any("'gift_cards' has only 1 example; left out of the head" in w for w in topic.warnings)
    assert "topics without a queue in the routing policy go to 'general': 'vouchers'" in topic.warnings
    assert not any("gift_cards" in w and "queue" in w for w in topic.warnings)
    if "urgent" not in urgency.counts:
        assert any("never predicts ['urgent']" in w and "escalations" in w for w in urgency.warnings)
