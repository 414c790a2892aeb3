"""Translations already made: in memory for everything, on disk for article texts only.

A neural translation of a page costs seconds on a CPU and comes out the same every time, so one is made once.
Tickets and drafts carry customer data, which Sift keeps only masked and only as long as its retention: their
translations stay in memory (gone with the process). Articles are the helpdesk's public pages, so their
translations are also written to disk, under the translation folder, readable by the owner only.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from pathlib import Path


def cache_key(backend: str, source: str, target: str, text: str) -> str:
    """The key of one translation: the backend and pair in clear (to purge one), the text only as a hash."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return f"{backend}.{source}-{target}.{digest}"


class TranslationCache:
    """An LRU of ``entries`` translations, over a folder of persisted article translations (None: none)."""

    def __init__(self, entries: int, folder: Path | None) -> None:
        self._entries = entries
        self._folder = folder
        self._memory: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, backend: str, source: str, target: str, text: str) -> str | None:
        key = cache_key(backend, source, target, text)
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return self._memory[key]
        path = self._path(key)
        if path is None or not path.is_file():
            return None
        try:
            found = json.loads(path.read_text(encoding="utf-8"))["text"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # a torn or foreign file is a miss; the next put rewrites it
        self._remember(key, found)
        return str(found)

    def put(self, backend: str, source: str, target: str, text: str, translated: str, persist: bool = False) -> None:
        """``persist`` only for texts without customer data (articles)."""
        key = cache_key(backend, source, target, text)
        self._remember(key, translated)
        path = self._path(key)
        if persist and path is not None:
            for folder in (path.parent.parent, path.parent):  # parents=True would leave the top one world-readable
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"text": translated}, fh, ensure_ascii=False)
            os.replace(tmp, path)

    def _remember(self, key: str, translated: str) -> None:
        if not self._entries:
            return
        with self._lock:
            self._memory[key] = translated
            self._memory.move_to_end(key)
            while len(self._memory) > self._entries:
                self._memory.popitem(last=False)

    def _path(self, key: str) -> Path | None:
        return None if self._folder is None else self._folder / key.split(".")[0] / f"{key}.json"
