"""The heads' second view (``head_second_view = "use-m3"``): trained, triaged end to end, refused when it changed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import NotReady
from engine.models.head_views import USE_M3_LANGUAGES, check_view, join, neutral_rows, neutralise
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


def test_unsupported_languages_get_the_mean_of_the_supported_half() -> None:
    assert "da" not in USE_M3_LANGUAGES and "de" in USE_M3_LANGUAGES
    rows = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 3.0], [5.0, 5.0, 100.0]], dtype=np.float32)
    trained, neutral = neutral_rows(rows, ["en", "de", "da"], first_dim=2)
    assert neutral.tolist() == [2.0]
    assert trained[:, 2].tolist() == [1.0, 3.0, 2.0]
    assert trained[2, :2].tolist() == [5.0, 5.0]  # the e5 half is untouched
    # The mean over every trained row, as the classifier takes it from the support, is the same neutral value.
    assert neutralise(rows, ["hr", "und", "en"], 2, neutral)[:, 2].tolist() == [2.0, 3.0, 100.0]


def test_a_head_of_another_view_is_refused_with_the_fix() -> None:
    check_view("topic", "v1", {"second_view": "use-m3"}, "use-m3")
    check_view("topic", "v1", {}, "none")  # heads from before the setting read e5 alone
    with pytest.raises(NotReady, match=r"trained with head_second_view = 'none'.*retrain"):
        check_view("topic", "v1", {}, "use-m3")


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
    # The Danish ticket's USE half is neutral, so its topic comes from e5; the three say the same thing.
    assert {s.topic.alternatives[0].label for s in states if s.topic is not None} == {states[0].topic.alternatives[0].label}

    # The same heads under the default setting: refused, in the pipeline and on the command line.
    plain = ModelRegistry(Settings(data_dir=data_dir, translators=[]))
    plain.__dict__["encoder"] = ready_registry.encoder
    with pytest.raises(NotReady, match="retrain"):
        plain.require_head("topic")
    env = {**os.environ, "SIFT_DATA_DIR": str(data_dir), "SIFT_HEAD_SECOND_VIEW": "none"}
    result = CliRunner().invoke(app, ["triage", "My camera is offline"], env=env)
    assert result.exit_code == 2, result.output
    assert "head_second_view = 'use-m3'" in result.output and "sift train" in result.output
    assert "Traceback" not in result.output
