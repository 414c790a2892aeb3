"""`sift macros lint`: a clean folder passes, every problem is printed as file:line, exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app

runner = CliRunner()
MACRO = "---\ntitle: Refund\n---\nHi {{ customer_first_name }},\n{{ agent_name }}\n"


def test_the_shipped_macros_pass() -> None:
    result = runner.invoke(app, ["macros", "lint"])
    assert result.exit_code == 0, result.output
    assert "macro(s) fine" in result.stdout and "(de, en)" in result.stdout


def test_problems_are_listed_with_file_and_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "refund.en.j2").write_text(MACRO, encoding="utf-8")
    (tmp_path / "typo.en.j2").write_text(MACRO.replace("agent_name", "agent_nam"), encoding="utf-8")
    (tmp_path / "broken.de.j2").write_text(MACRO.replace("}},\n", "},\n"), encoding="utf-8")
    result = runner.invoke(app, ["macros", "lint", str(tmp_path)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'typo.en.j2'}:5: undefined variable 'agent_nam'" in result.stderr
    assert f"{tmp_path / 'broken.de.j2'}:4: syntax error" in result.stderr
    assert "2 problem(s); 1 macro(s) fine" in result.stderr


def test_a_missing_folder_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["macros", "lint", str(tmp_path / "absent")])
    assert result.exit_code == 2 and "is not a folder" in result.stderr


def test_no_folder_configured_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIFT_MACROS_DIR", "")
    result = runner.invoke(app, ["macros", "lint"])
    assert result.exit_code == 2 and "no macros folder" in result.stderr


def test_a_folder_without_macros_exits_2(tmp_path: Path) -> None:
    result = runner.invoke(app, ["macros", "lint", str(tmp_path)])
    assert result.exit_code == 2 and "no macros" in result.stderr
