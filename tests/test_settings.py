"""Settings: an unknown or replaced key in sift.toml is ignored, but said out loud."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from engine.settings import Settings


def test_unknown_and_replaced_keys_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    toml = tmp_path / "sift.toml"
    toml.write_text('retrieval_threshold = 0.8\nencoder_backnd = "onnx"\ntop_k_articles = 3\n')
    monkeypatch.setenv("SIFT_SETTINGS_FILE", str(toml))
    with caplog.at_level(logging.WARNING, logger="engine.settings"):
        settings = Settings()
    assert settings.top_k_articles == 3
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "'encoder_backnd' is not known" in messages
    assert "answer_confidence_threshold" in messages
