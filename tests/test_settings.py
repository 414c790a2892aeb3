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
    assert "thresholds.answer_confidence" in messages


@pytest.mark.parametrize("key", ["answer_confidence_threshold", "topic_confidence_threshold", "risk_threshold"])
def test_a_threshold_moved_to_the_policy_is_refused_not_dropped(
    key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator who raised a threshold must learn it moved, not lose it to a default."""
    toml = tmp_path / "sift.toml"
    toml.write_text(f"{key} = 0.7\n")
    monkeypatch.setenv("SIFT_SETTINGS_FILE", str(toml))
    with pytest.raises(ValueError, match=f"{key} moved to the routing policy file"):
        Settings()
    monkeypatch.setenv("SIFT_SETTINGS_FILE", str(tmp_path / "absent.toml"))
    monkeypatch.setenv(f"SIFT_{key.upper()}", "0.7")
    with pytest.raises(ValueError, match="thresholds"):
        Settings()
