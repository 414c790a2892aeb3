"""Opening a built faiss index: the vectors every search reads, mapped rather than loaded."""

from __future__ import annotations

from pathlib import Path

import faiss


def read_faiss(path: Path) -> faiss.Index:
    """Memory-mapped: pages load on demand and are shared by every process serving the same build.

    ``IO_FLAG_MMAP_IFC`` maps the flat vector storage that both index types use
    (plain ``IO_FLAG_MMAP`` maps only IVF lists). Builds are never rewritten in
    place, and a pruned build's mapping stays valid until its reader lets go.
    """
    return faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC)
