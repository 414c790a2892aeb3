"""Argos Translate packages (``.argosmodel``) an operator brings as files, run with CTranslate2.

Sift reads the package format itself rather than through the ``argostranslate`` library: that library
reads its settings from the environment when imported, creates folders in the home directory, and splits
sentences with MiniSBD or Stanza models it downloads when a package carries none, so it cannot promise to stay
offline. The format is simple: a zip holding one folder with ``metadata.json`` (``from_code``, ``to_code``),
a CTranslate2 model in ``model/`` and a ``sentencepiece.model``; only the package index is Argos's, and Sift
never reads one. A pair without a package of its own is translated through English when both halves are
installed (Argos packages are mostly to and from English).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from engine.errors import InvalidInput
from engine.translate.text import translate_sentences

log = logging.getLogger(__name__)
SUFFIX = ".argosmodel"
PIVOT = "en"
MAX_DECODING_LENGTH = 256  # tokens per sentence: a model stuck repeating itself stops here


@dataclass(frozen=True)
class ArgosPackage:
    """An installed package: the folder it lives in and the pair it translates."""

    path: Path
    source: str
    target: str
    version: str
    target_prefix: str = ""
    """A token some multilingual packages put before the output (their metadata's ``target_prefix``)."""


def read_package(folder: Path) -> ArgosPackage:
    """The package in ``folder``, refused naming what is missing: a package that half-loads fails later, mid-draft."""
    meta_path = folder / "metadata.json"
    try:
        meta: dict[str, Any] = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput("package", f"{folder.name}: metadata.json cannot be read: {exc}") from exc
    if not isinstance(meta, dict) or not all(isinstance(meta.get(k), str) for k in ("from_code", "to_code")):
        raise InvalidInput("package", f"{folder.name}: metadata.json must give from_code and to_code")
    if not (folder / "model" / "model.bin").is_file():
        raise InvalidInput("package", f"{folder.name}: has no CTranslate2 model (model/model.bin)")
    if not (folder / "sentencepiece.model").is_file():
        raise InvalidInput(
            "package", f"{folder.name}: has no sentencepiece.model (packages tokenised with BPE are not supported)"
        )
    return ArgosPackage(
        path=folder,
        source=meta["from_code"].lower(),
        target=meta["to_code"].lower(),
        version=str(meta.get("package_version", "")),
        target_prefix=str(meta.get("target_prefix") or ""),
    )


def installed_packages(packages_dir: Path) -> list[ArgosPackage]:
    """Every package installed under ``packages_dir``; a broken folder is logged and left out, so one bad copy
    does not stop the pairs that work."""
    packages = []
    folders = sorted(packages_dir.iterdir()) if packages_dir.is_dir() else []
    for folder in (f for f in folders if f.is_dir() and not f.name.startswith(".")):
        try:
            packages.append(read_package(folder))
        except InvalidInput as exc:
            log.warning("Argos package left out: %s", exc.message)
    return packages


def _package_root(archive: zipfile.ZipFile, file: Path) -> str:
    """The one top folder every member lies in; an absolute or ``..`` path is refused before anything is written."""
    roots = set()
    for name in archive.namelist():
        parts = PurePosixPath(name).parts
        if not parts or name.startswith("/") or ".." in parts or "\\" in name:
            raise InvalidInput(str(file), f"unsafe path {name!r} in the archive")
        roots.add(parts[0])
    if len(roots) != 1:
        raise InvalidInput(str(file), f"an Argos package holds one folder; this one holds {len(roots)}")
    return roots.pop()


def install_package(file: Path, packages_dir: Path) -> ArgosPackage:
    """Unpacks ``file`` into ``packages_dir`` as ``<from>_<to>``, replacing an installed package of the same pair.

    It is checked in a temporary folder first, so a broken file leaves the installed packages as they were.
    """
    if file.suffix != SUFFIX:
        raise InvalidInput(str(file), f"an Argos package file ends in {SUFFIX}")
    if not file.is_file() or not zipfile.is_zipfile(file):
        raise InvalidInput(str(file), "is not a file, or not a zip archive (an .argosmodel is one)")
    packages_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    with tempfile.TemporaryDirectory(dir=packages_dir, prefix=".install-") as tmp, zipfile.ZipFile(file) as archive:
        root = _package_root(archive, file)
        archive.extractall(tmp)
        package = read_package(Path(tmp) / root)
        final = packages_dir / f"{package.source}_{package.target}"
        if final.exists():
            shutil.rmtree(final)
        package.path.rename(final)
    return read_package(final)


class _Model:
    """One package's model and tokenizer, loaded on first use (a process that never translates pays nothing)."""

    def __init__(self, package: ArgosPackage, threads: int) -> None:
        import ctranslate2
        import sentencepiece

        self._package = package
        self._translator = ctranslate2.Translator(str(package.path / "model"), device="cpu", intra_threads=threads)
        self._tokenizer = sentencepiece.SentencePieceProcessor(model_file=str(package.path / "sentencepiece.model"))

    def translate(self, sentences: list[str]) -> list[str]:
        tokens = self._tokenizer.encode(sentences, out_type=str)
        prefix = self._package.target_prefix
        results = self._translator.translate_batch(
            tokens,
            target_prefix=[[prefix]] * len(tokens) if prefix else None,
            replace_unknowns=True,
            beam_size=2,
            max_decoding_length=MAX_DECODING_LENGTH,
        )
        out = []
        for result in results:
            words = result.hypotheses[0][1:] if prefix else result.hypotheses[0]
            out.append(self._tokenizer.decode(words).strip())
        return out


class ArgosTranslator:
    """The ``argos`` backend: the packages installed under ``packages_dir``, re-read when that folder changes."""

    name = "argos"

    def __init__(self, packages_dir: Path, threads: int = 1) -> None:
        self._dir = packages_dir
        self._threads = threads
        self._lock = threading.Lock()
        self._seen: float | None = None
        self._packages: dict[tuple[str, str], ArgosPackage] = {}
        self._models: dict[Path, _Model] = {}

    @staticmethod
    def available() -> bool:
        """Whether CTranslate2, which runs the models, is installed."""
        import importlib.util

        return importlib.util.find_spec("ctranslate2") is not None

    def _current(self) -> dict[tuple[str, str], ArgosPackage]:
        """The installed packages by pair; `sift translate install` in another process shows up on the next call."""
        stamp = self._dir.stat().st_mtime if self._dir.is_dir() else None
        with self._lock:
            if stamp != self._seen:
                self._packages = {(p.source, p.target): p for p in installed_packages(self._dir)}
                self._models = {}
                self._seen = stamp
            return self._packages

    def pairs(self) -> list[tuple[str, str]]:
        return sorted(self._current())

    def _route(self, source: str, target: str) -> list[ArgosPackage] | None:
        packages = self._current()
        if (source, target) in packages:
            return [packages[source, target]]
        if PIVOT not in (source, target) and (source, PIVOT) in packages and (PIVOT, target) in packages:
            return [packages[source, PIVOT], packages[PIVOT, target]]
        return None

    def can_translate(self, source: str, target: str) -> bool:
        return source != target and self._route(source, target) is not None

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        route = self._route(source, target)
        if route is None:
            raise ValueError(f"no Argos package translates {source}->{target}, directly or through {PIVOT}")
        for package in route:
            texts = translate_sentences(texts, self._model(package).translate)
        return texts

    def _model(self, package: ArgosPackage) -> _Model:
        with self._lock:
            model = self._models.get(package.path)
            if model is None:
                model = self._models[package.path] = _Model(package, self._threads)
            return model
