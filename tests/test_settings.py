from pathlib import Path

import pytest
from pydantic import ValidationError

from engine.settings import Settings


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "sift.toml"
    config.write_text('top_k_articles = 7\nkb_dir = "/srv/kb"\nlanguages = ["en", "de"]\n')
    monkeypatch.setenv("SIFT_SETTINGS_FILE", str(config))
    monkeypatch.setenv("SIFT_TOP_K_ARTICLES", "3")
    s = Settings()
    assert s.top_k_articles == 3
    assert s.kb_dir == Path("/srv/kb")
    assert s.languages == ["en", "de"]


def test_data_dir_decides_every_state_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIFT_DATA_DIR", str(tmp_path))
    s = Settings()
    for path in (s.index_dir, s.heads_dir, s.database_path):
        assert tmp_path in path.parents


def test_unsafe_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIFT_TOP_K_ARTICLES", "0")
    with pytest.raises(ValidationError, match="top_k_articles"):
        Settings()
