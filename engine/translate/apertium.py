"""Apertium, where the operator installed it from their distribution (Debian: ``apt install apertium-eng-spa``).

Rule-based, so no model to ship: Sift runs the ``apertium`` command the distribution installed, one process
per text, and asks it for its pairs (``apertium -l``) rather than assuming any. Apertium names languages in
ISO 639-3 and Serbo-Croatian as one language (``hbs``, with ``_HR``/``_SR``/``_BS`` variants for the written
standard); Sift's codes are ISO 639-1, mapped below.
"""

from __future__ import annotations

import shutil
import subprocess
import threading

TIMEOUT_SECONDS = 60
ISO3 = {
    "en": "eng", "es": "spa", "ca": "cat", "pt": "por", "fr": "fra", "it": "ita", "gl": "glg", "ro": "ron",
    "oc": "oci", "eu": "eus", "eo": "epo", "de": "deu", "nl": "nld", "da": "dan", "sv": "swe", "nb": "nob",
    "nn": "nno", "is": "isl", "mk": "mkd", "bg": "bul", "cy": "cym", "br": "bre", "mt": "mlt", "kk": "kaz",
    "tt": "tat", "uk": "ukr", "ru": "rus", "be": "bel", "pl": "pol", "cs": "ces", "sk": "slk", "sl": "slv",
    "ar": "ara", "hi": "hin", "ur": "urd", "id": "ind", "ms": "msa", "af": "afr", "hr": "hbs", "sr": "hbs",
    "bs": "hbs",
}  # fmt: skip
ISO1 = {three: one for one, three in ISO3.items() if three != "hbs"}


def _codes(mode: str) -> tuple[str, str] | None:
    """A mode such as ``eng-spa`` or ``eng-hbs_HR`` as Sift's (source, target) codes; None for other modes."""
    halves = mode.split("-")
    if len(halves) != 2:
        return None
    codes = []
    for half in halves:
        language, _, variant = half.partition("_")
        if language == "hbs":
            codes.append(variant.lower() if variant in ("HR", "SR", "BS") else "hr")
        elif language in ISO1 and not variant:
            codes.append(ISO1[language])
        else:
            return None
    return codes[0], codes[1]


class ApertiumTranslator:
    """The ``apertium`` backend: every pair the installed ``apertium`` lists."""

    name = "apertium"

    def __init__(self, binary: str | None = None) -> None:
        self._binary = binary or shutil.which("apertium")
        self._modes: dict[tuple[str, str], str] | None = None
        self._lock = threading.Lock()

    @staticmethod
    def available() -> bool:
        return shutil.which("apertium") is not None

    def _pairs(self) -> dict[tuple[str, str], str]:
        """Mode by pair, read once; for ``hr`` an exact ``hbs_HR`` mode wins over the plain ``hbs`` one."""
        with self._lock:
            if self._modes is None:
                if self._binary is None:
                    raise FileNotFoundError("apertium is not installed (no `apertium` on PATH)")
                listed = subprocess.run(
                    [self._binary, "-l"], capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=True
                ).stdout.split()
                modes: dict[tuple[str, str], str] = {}
                for mode in sorted(listed, key=lambda m: "_" in m):  # plain modes first, exact variants override
                    pair = _codes(mode)
                    if pair is not None and pair[0] != pair[1]:
                        modes[pair] = mode
                for mode in listed:  # a plain hbs mode serves bs and sr too when no variant of theirs exists
                    pair = _codes(mode)
                    if pair is not None and "hbs" in mode and "_" not in mode:
                        for other in ("bs", "sr"):
                            alias = tuple(other if c == "hr" else c for c in pair)
                            modes.setdefault((alias[0], alias[1]), mode)
                self._modes = modes
            return self._modes

    def pairs(self) -> list[tuple[str, str]]:
        return sorted(self._pairs())

    def can_translate(self, source: str, target: str) -> bool:
        return (source, target) in self._pairs()

    def translate(self, texts: list[str], source: str, target: str) -> list[str]:
        mode = self._pairs().get((source, target))
        if mode is None or self._binary is None:
            raise ValueError(f"apertium has no {source}->{target} pair installed")
        # -u: no '*' before unknown words; the text goes on as plain text, its layout kept by apertium itself.
        return [
            subprocess.run(
                [self._binary, "-u", mode], input=text, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=True
            ).stdout.rstrip("\n")
            for text in texts
        ]
