"""The Argos backend through its real install-and-translate path, on tiny packages built here."""

from __future__ import annotations

import json
import socket
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import InvalidInput
from engine.settings import get_settings
from engine.translate.argos import ArgosTranslator, install_package, installed_packages
from tests.translate.argos_package import build_package

pytest.importorskip("ctranslate2", reason="Argos packages run on CTranslate2 (pyproject's translate extra)")


@pytest.fixture(scope="module")
def package_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("argos-files")
    return {f"{s}-{t}": build_package(folder, s, t, seed) for seed, (s, t) in enumerate([("de", "en"), ("en", "hr")])}


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to open a network connection fails the test: Argos must never reach a package index."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the Argos backend tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_installed_package_translates_directly_and_through_english(
    package_files: dict[str, Path], tmp_path: Path, offline: None
) -> None:
    packages = tmp_path / "argos"
    for file in package_files.values():
        install_package(file, packages)
    argos = ArgosTranslator(packages)
    assert argos.pairs() == [("de", "en"), ("en", "hr")]
    assert argos.can_translate("de", "hr") and not argos.can_translate("hr", "de")
    text = "where is my order? thank you.\n\n- hello world"
    [direct] = argos.translate([text], "de", "en")
    [pivoted] = argos.translate([text], "de", "hr")
    # Nonsense words from random weights, but the layout survives: two paragraphs, the list marker kept.
    for out in (direct, pivoted):
        first, second = out.split("\n\n")
        assert first.strip() and second.startswith("- ") and len(second) > 2
    assert direct != pivoted


def test_a_package_installed_later_is_seen_without_a_restart(package_files: dict[str, Path], tmp_path: Path) -> None:
    argos = ArgosTranslator(tmp_path / "argos")
    assert argos.pairs() == [] and not argos.can_translate("de", "en")
    install_package(package_files["de-en"], tmp_path / "argos")
    assert argos.can_translate("de", "en")


def test_a_broken_installed_folder_leaves_the_others_working(package_files: dict[str, Path], tmp_path: Path) -> None:
    install_package(package_files["de-en"], tmp_path)
    (tmp_path / "half-copied").mkdir()
    assert ArgosTranslator(tmp_path).pairs() == [("de", "en")]


def test_reinstalling_a_pair_replaces_it(package_files: dict[str, Path], tmp_path: Path) -> None:
    install_package(package_files["de-en"], tmp_path)
    install_package(package_files["de-en"], tmp_path)
    assert [p.path.name for p in installed_packages(tmp_path)] == ["de_en"]


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"../evil/metadata.json": "{}"}, "unsafe path"),
        ({"/abs/metadata.json": "{}"}, "unsafe path"),
        ({"a/metadata.json": "{}", "b/metadata.json": "{}"}, "holds 2"),
        ({"p/metadata.json": "not json"}, "cannot be read"),
        ({"p/metadata.json": json.dumps({"from_code": "de"})}, "from_code and to_code"),
        ({"p/metadata.json": json.dumps({"from_code": "de", "to_code": "en"})}, "no CTranslate2 model"),
        (
            {"p/metadata.json": json.dumps({"from_code": "de", "to_code": "en"}), "p/model/model.bin": "x", "p/bpe.model": ""},
            "BPE",
        ),
    ],
)
def test_a_broken_package_is_refused_and_installs_nothing(
    members: dict[str, str], message: str, tmp_path: Path
) -> None:
    packages = tmp_path / "argos"
    with pytest.raises(InvalidInput, match=message):
        install_package(_zip(tmp_path / "bad.argosmodel", members), packages)
    assert installed_packages(packages) == []
    assert not (tmp_path / "evil").exists()


def test_cli_installs_and_lists(package_files: dict[str, Path], data_dir: Path) -> None:
    runner = CliRunner()
    installed = runner.invoke(app, ["translate", "install", str(package_files["de-en"])])
    assert installed.exit_code == 0, installed.output
    assert "de->en" in installed.output
    assert (get_settings().translate_dir / "argos" / "de_en" / "metadata.json").is_file()
    listed = runner.invoke(app, ["translate", "list"])
    assert listed.exit_code == 0 and "de->en" in listed.output


@pytest.mark.parametrize("name", ["missing.argosmodel", "notes.txt"])
def test_cli_refuses_what_is_not_a_package(name: str, tmp_path: Path) -> None:
    if name.endswith(".txt"):
        (tmp_path / name).write_text("hello")
    result = CliRunner().invoke(app, ["translate", "install", str(tmp_path / name)])
    assert result.exit_code == 2 and "error:" in result.output and ".argosmodel" in result.output
