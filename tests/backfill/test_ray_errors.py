"""`sift triage-file --ray` refusing what it cannot do, with exit code 2 and a message; no Ray is started."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from tests.backfill.helpers import said

runner = CliRunner()


@pytest.fixture
def src(tmp_path: Path) -> Path:
    path = tmp_path / "t.jsonl"
    path.write_text('{"text": "My hub is offline"}\n', encoding="utf-8")
    return path


def test_an_unreachable_cluster_exits_2(src: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    for address in ("127.0.0.1:1", "ray://127.0.0.1:1"):
        result = runner.invoke(app, ["triage-file", str(src), "--out", str(tmp_path / "o.jsonl"), "--ray-address", address])
        assert result.exit_code == 2, result.output
        assert f"cannot reach the Ray cluster at {address}" in said(result)
        assert "Traceback" not in result.output


def test_a_malformed_address_exits_2(src: Path, tmp_path: Path) -> None:
    pytest.importorskip("ray")
    result = runner.invoke(app, ["triage-file", str(src), "--out", str(tmp_path / "o.jsonl"), "--ray-address", "nowhere"])
    assert result.exit_code == 2
    assert "--ray-address must be auto, HOST:PORT or ray://HOST:PORT" in said(result)


def test_workers_without_ray_exits_2(src: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["triage-file", str(src), "--out", str(tmp_path / "o.jsonl"), "--workers", "2"])
    assert result.exit_code == 2
    assert "add --ray" in said(result)


def test_ray_not_installed_exits_2(src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # what `import ray` meets where the extra is not installed
    result = runner.invoke(app, ["triage-file", str(src), "--out", str(tmp_path / "o.jsonl"), "--ray-address", "auto"])
    assert result.exit_code == 2
    assert "pip install 'sift[ray]'" in said(result)
