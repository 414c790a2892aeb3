"""A tiny but real Argos package, made in the test: no real one installs offline and none is in the repo.

A SentencePiece model trained on a few lines and a one-layer CTranslate2 Transformer with random weights,
zipped the way Argos packages are. Its translations are nonsense; what the tests check is the mechanism:
the file installs, loads, tokenises, runs through CTranslate2 and detokenises, as a real package would.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import sentencepiece as spm

LINES = ["where is my order", "the parcel has not arrived", "thank you very much", "hello world"]
WIDTH, FFN = 8, 16


def _fill(spec: object, vocab: int, rng: np.random.Generator, path: str = "") -> None:
    """Sets every weight the spec still lacks, shaped by its role (a fused QKV is 3 x width, and so on)."""
    from ctranslate2.specs import model_spec

    for name, value in vars(spec).items():
        where = f"{path}{name}."
        if isinstance(value, model_spec.LayerSpec):
            _fill(value, vocab, rng, where)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, model_spec.LayerSpec):
                    _fill(item, vocab, rng, f"{path}{name}_{i}.")
        elif value is None:
            if name in ("gamma", "beta"):
                shape: tuple[int, ...] = (WIDTH,)
            elif "embeddings" in path or "projection" in path:
                shape = (vocab, WIDTH)
            elif "ffn.linear_0" in path:
                shape = (FFN, WIDTH)
            elif "ffn.linear_1" in path:
                shape = (WIDTH, FFN)
            elif "self_attention.linear_0" in path:
                shape = (3 * WIDTH, WIDTH)
            elif "attention.linear_1" in path and "self_attention" not in path:
                shape = (2 * WIDTH, WIDTH)
            else:
                shape = (WIDTH, WIDTH)
            weights = np.ones(shape) if name == "gamma" else rng.normal(0.0, 0.5, shape)
            setattr(spec, name, weights.astype(np.float32))


def build_package(folder: Path, source: str, target: str, seed: int = 0) -> Path:
    """Writes ``translate-<source>_<target>.argosmodel`` into ``folder`` and returns its path."""
    from ctranslate2.specs import transformer_spec

    root = folder / f"build-{source}-{target}" / f"translate-{source}_{target}"
    (root / "model").mkdir(parents=True)
    corpus = root.parent / "corpus.txt"
    corpus.write_text("\n".join(LINES * 10), encoding="utf-8")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(root / "sentencepiece"), vocab_size=40, bos_id=-1, eos_id=0,
        unk_id=1, pad_id=2, eos_piece="</s>", unk_piece="<unk>", pad_piece="<pad>", hard_vocab_limit=False,
        minloglevel=2,
    )  # fmt: skip
    (root / "sentencepiece.vocab").unlink()
    tokenizer = spm.SentencePieceProcessor(model_file=str(root / "sentencepiece.model"))
    vocabulary = [tokenizer.id_to_piece(i) for i in range(tokenizer.get_piece_size())]
    spec = transformer_spec.TransformerSpec.from_config(1, 2)
    _fill(spec, len(vocabulary), np.random.default_rng(seed))
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    spec.optimize(quantization=None)
    spec.save(str(root / "model"))
    meta = {"package_version": "0.1", "argos_version": "1.11", "from_code": source, "to_code": target, "type": "translate"}
    (root / "metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    file = folder / f"translate-{source}_{target}.argosmodel"
    with zipfile.ZipFile(file, "w") as archive:
        for path in sorted(root.rglob("*")):
            archive.write(path, path.relative_to(root.parent).as_posix())
    return file
