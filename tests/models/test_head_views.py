"""The heads' second view (``head_second_view = "use-m3"``): trained, triaged end to end, each head reading the view
it was trained with, refused when the process does not load that view."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import NotReady
from engine.models.head_views import USE_M3_LANGUAGES, check_view, impute, join
from engine.models.registry import ModelRegistry
from engine.pipeline import Pipeline
from engine.settings import REPO_ROOT, Settings
from engine.training.data import LabelledTickets
from engine.training.heads import train_heads
from engine.types import Ticket


def test_joined_rows_are_unit_length_with_halves_alike() -> None:
    rng = np.random.default_rng(0)
    rows = join(rng.normal(size=(3, 4)) * 5, rng.normal(size=(3, 2)))
    assert rows.shape == (3, 6)
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-6)
    assert np.allclose(np.linalg.norm(rows[:, :4], axis=1), np.linalg.norm(rows[:, 4:], axis=1), atol=1e-6)


def test_unsupported_languages_take_the_use_half_of_their_nearest_training_rows() -> None:
    assert "da" not in USE_M3_LANGUAGES and "de" in USE_M3_LANGUAGES
    # e5 half: 2 columns; USE half: 1 column.
    reference = np.array([[1.0, 0.0, 10.0], [0.9, 0.1, 20.0], [0.0, 1.0, -5.0]], dtype=np.float32)
    rows = np.array([[1.0, 0.0, 99.0], [0.0, 1.0, 99.0], [0.0, 1.0, 99.0], [1.0, 0.0, 99.0]], dtype=np.float32)
    out = impute(rows, ["da", "hr", "und", "en"], first_dim=2, reference=reference, neighbours=2)
    assert out[:, 2].tolist() == [15.0, 7.5, 99.0, 99.0]  # und and en keep their own
    assert np.array_equal(out[:, :2], rows[:, :2])  # the e5 half is untouched
    assert rows[0, 2] == 99.0  # the input is not changed


def test_a_head_of_a_view_the_process_lacks_is_refused_with_the_fix() -> None:
    check_view("topic", "v1", {"second_view": "use-m3"}, "use-m3")
    check_view("topic", "v1", {}, "none")  # heads from before the setting read e5 alone
    check_view("topic", "v1", {}, "use-m3")  # ... and still do once the process loads the second view
    check_view("topic", "v1", {"second_view": "none"}, "use-m3")
    with pytest.raises(NotReady, match=r"trained with head_second_view = 'use-m3'.*retrain"):
        check_view("topic", "v1", {"second_view": "use-m3"}, "none")


@pytest.mark.slow
def test_second_view_trains_triages_and_refuses_a_changed_setting(
    tmp_path: Path, ready_registry: ModelRegistry
) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "index").symlink_to(ready_registry.settings.data_dir / "index")  # the session's KB index
    settings = Settings(data_dir=data_dir, translators=[], head_second_view="use-m3")
    registry = ModelRegistry(settings)
    registry.__dict__["encoder"] = ready_registry.encoder  # the session's loaded e5
    rows = [json.loads(line) for line in (REPO_ROOT / "data" / "demo_tickets.jsonl").read_text().splitlines()][:150]
    data = LabelledTickets(
        [r["text"] for r in rows], {"topic": [r["topic"] for r in rows], "urgency": [r["urgency"] for r in rows]}
    )
    train_heads(registry, data, {"topic": "topic", "urgency": "urgency"})
    topic = registry.require_head("topic")
    assert topic.meta.provenance["second_view"] == "use-m3"
    assert topic.support.shape[1] == ready_registry.encoder.dim + 512

    pipeline = Pipeline(settings, registry)
    tickets = [
        "My camera has been offline since this morning and the app shows no live view.",
        "Meine Kamera ist seit heute Morgen offline und die App zeigt kein Livebild.",
        "Mit kamera har været offline siden i morges, og appen viser intet livebillede.",  # Danish: USE does not know it
    ]
    states = pipeline.states([Ticket(text=t) for t in tickets], ["en", "de", "da"])
    for state in states:
        assert not state.failed, state.failed
        assert state.second_embedding is not None and state.second_embedding.shape == (512,)
        assert state.topic is not None and state.topic.alternatives
    assert [s.language.code for s in states] == ["en", "de", "da"]
    # The Danish ticket's USE half comes from its nearest training tickets by e5; the three say the same thing.
    assert {s.topic.alternatives[0].label for s in states if s.topic is not None} == {states[0].topic.alternatives[0].label}

    # The same heads in a process that loads no second view: refused, in the pipeline and on the command line.
    plain = ModelRegistry(
        Settings(data_dir=data_dir, translators=[], head_second_view="none", retrieval_second_view="none")
    )
    plain.__dict__["encoder"] = ready_registry.encoder
    with pytest.raises(NotReady, match="retrain"):
        plain.require_head("topic")
    env = {
        **os.environ, "SIFT_DATA_DIR": str(data_dir), "SIFT_HEAD_SECOND_VIEW": "none", "SIFT_RETRIEVAL_SECOND_VIEW": "none"
    }
    result = CliRunner().invoke(app, ["triage", "My camera is offline"], env=env)
    assert result.exit_code == 2, result.output
    assert "head_second_view = 'use-m3'" in result.output and "sift train" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_heads_trained_on_e5_alone_keep_reading_e5_where_the_second_view_is_loaded(
    tmp_path: Path, ready_registry: ModelRegistry
) -> None:
    """A deployment whose heads predate the second view's default keeps triaging after the upgrade."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "index").symlink_to(ready_registry.settings.data_dir / "index")
    old = ModelRegistry(Settings(data_dir=data_dir, translators=[], head_second_view="none"))
    old.__dict__["encoder"] = ready_registry.encoder
    rows = [json.loads(line) for line in (REPO_ROOT / "data" / "demo_tickets.jsonl").read_text().splitlines()][:150]
    data = LabelledTickets(
        [r["text"] for r in rows], {"topic": [r["topic"] for r in rows], "urgency": [r["urgency"] for r in rows]}
    )
    train_heads(old, data, {"topic": "topic", "urgency": "urgency"})
    before = Pipeline(old.settings, old).states([Ticket(text="Where is my order? It has not arrived.")], ["t1"])[0]

    upgraded = ModelRegistry(Settings(data_dir=data_dir, translators=[], head_second_view="use-m3"))
    upgraded.__dict__["encoder"] = ready_registry.encoder
    topic = upgraded.require_head("topic")
    assert topic.meta.provenance["second_view"] == "none" and topic.support.shape[1] == ready_registry.encoder.dim
    after = Pipeline(upgraded.settings, upgraded).states([Ticket(text="Where is my order? It has not arrived.")], ["t1"])[0]
    assert not after.failed and after.second_embedding is not None  # retrieval reads it; the heads do not
    assert after.topic is not None and before.topic is not None
    assert [(a.label, round(a.probability, 4)) for a in after.topic.alternatives] == [
        (a.label, round(a.probability, 4)) for a in before.topic.alternatives
    ]
