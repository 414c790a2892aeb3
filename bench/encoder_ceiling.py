"""How many tickets a second the encoder could reach on this machine if its products ran at the CPU's best rate.

Issue #6 asks for 200 tickets/s of batch triage on 2 cores. Almost all of a ticket's arithmetic is the encoder's
weight products, so their best rate on this CPU bounds throughput whatever the rest of the service does. This
measures that rate directly: one encoder layer's six weight products at the model's own sizes (query, key,
value, attention output and feed-forward input in dynamic int8, quantised with the converter's options;
feed-forward output in fp32, as in ``model.int8.onnx``), with nothing else in the graph, on the encoder's
threads, over as many rows as the encoder ever gets in one call and over four times as many. Twelve layers of
that per token, times the tokens the encoder runs for each benchmark ticket, is the ceiling: attention scores,
layer norms, GELU, tokenising and the rest of the pipeline are left out, so the real figure can only be lower.
It then times the encoder itself on the same tickets, to say how close it comes.

    .venv/bin/python -m bench.encoder_ceiling                 # 2,000 benchmark tickets, about 2 minutes
"""

from __future__ import annotations

import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import onnx
import typer
from onnx import TensorProto, helper, numpy_helper
from rich.console import Console
from rich.table import Table

from bench.measure import RESULTS_DIR, write_result
from bench.tickets import describe, draw_tickets

app = typer.Typer(add_completion=False)
INT8_PRODUCTS = ("query", "key", "value", "attention_output", "intermediate")


def layer_products(hidden: int, intermediate: int, seed: int = 0) -> onnx.ModelProto:
    """One layer's weight products over a [rows, hidden] input, every product an output so none is pruned."""
    rng = np.random.default_rng(seed)
    x = "x"
    nodes, weights, outputs = [], [], []
    for name in INT8_PRODUCTS:
        width = intermediate if name == "intermediate" else hidden
        weights.append(numpy_helper.from_array(rng.normal(0, 0.05, (hidden, width)).astype(np.float32), f"{name}.w"))
        nodes.append(helper.make_node("MatMul", [x, f"{name}.w"], [name], name=name))
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, width]))
    weights.append(numpy_helper.from_array(rng.normal(0, 0.05, (intermediate, hidden)).astype(np.float32), "output.w"))
    nodes.append(helper.make_node("MatMul", ["intermediate", "output.w"], ["output"], name="output"))
    outputs.append(helper.make_tensor_value_info("output", TensorProto.FLOAT, [None, hidden]))
    graph = helper.make_graph(
        nodes, "layer-products", [helper.make_tensor_value_info(x, TensorProto.FLOAT, [None, hidden])], outputs, weights
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def layer_seconds_per_row(hidden: int, intermediate: int, rows: int, threads: int, repeats: int) -> float:
    """Best time per row of one layer's products, over ``rows`` rows at once (the int8 graph, as served)."""
    import onnxruntime as ort

    from engine.models.e5_onnx import quantise_matmuls

    with tempfile.TemporaryDirectory() as scratch:
        fp32, int8 = Path(scratch) / "layer.onnx", Path(scratch) / "layer.int8.onnx"
        onnx.save(layer_products(hidden, intermediate), fp32)
        quantise_matmuls(fp32, int8, list(INT8_PRODUCTS))
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(int8), options, providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).normal(0, 1, (rows, hidden)).astype(np.float32)
    session.run(None, {"x": x})
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, {"x": x})
        best = min(best, time.perf_counter() - start)
    return best / rows


@app.command()
def main(
    tickets: Annotated[int, typer.Option(min=1, help="benchmark tickets (bench.tickets' draw)")] = 2000,
    repeats: Annotated[int, typer.Option(min=1, help="timings of the layer's products; the best counts")] = 20,
    seed: int = 6,
    results_dir: Path = RESULTS_DIR,
) -> None:
    from engine.models.registry import ModelRegistry
    from engine.normalise import Normaliser
    from engine.settings import Settings
    from engine.types import Ticket

    started = datetime.now(UTC)
    settings = Settings()
    if settings.encoder_backend != "onnx":
        raise typer.BadParameter("the ceiling is for the onnx encoder backend", param_hint="SIFT_ENCODER_BACKEND")
    config = json.loads((settings.encoder_dir / "hf" / "config.json").read_text(encoding="utf-8"))
    hidden, intermediate, layers = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    drawn = draw_tickets(tickets, seed)
    texts = [Normaliser.normalise(Ticket(text=t.text, subject=t.subject)).text for t in drawn]
    encoder = ModelRegistry(settings).encoder
    rows, _ = encoder.rows(texts, True)  # type: ignore[attr-defined]
    tokens = sum(len(r) for r in rows)

    shapes = {n: layer_seconds_per_row(hidden, intermediate, n, settings.encoder_threads, repeats)
              for n in (settings.encode_batch_tokens, 4 * settings.encode_batch_tokens)}
    best_rows = min(shapes, key=shapes.__getitem__)
    token_s = layers * shapes[best_rows]
    ceiling = len(texts) / (tokens * token_s)
    flops_per_token = 2 * layers * (len(INT8_PRODUCTS) - 1) * hidden * hidden + 4 * layers * hidden * intermediate

    encoder.encode_queries(texts[:64])
    start = time.perf_counter()
    encoder.encode_queries(texts)
    measured = len(texts) / (time.perf_counter() - start)

    figures: dict[str, Any] = {
        "tickets": len(texts),
        "tokens_per_ticket": round(tokens / len(texts), 1),
        "layer_ms_per_1000_tokens": {str(n): round(s * 1e6, 3) for n, s in shapes.items()},
        "products_gop_per_s": round(flops_per_token / token_s / 1e9, 1),
        "ceiling_tickets_per_s": round(ceiling, 1),
        "encoder_tickets_per_s": round(measured, 1),
        "encoder_share_of_ceiling": round(measured / ceiling, 3),
        "target_tickets_per_s": 200,
        "target_over_ceiling": round(200 / ceiling, 2),
    }
    table = Table(title=f"encoder ceiling: {len(texts)} tickets, {settings.encoder_threads} threads, "
                        f"{layers} layers of {hidden}/{intermediate}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_row("tokens the encoder runs per ticket", f"{figures['tokens_per_ticket']}")
    for n, s in shapes.items():
        table.add_row(f"one layer's products, {n} rows at once", f"{s * 1e6:.3f} ms / 1,000 tokens")
    table.add_row("their rate (best shape)", f"{figures['products_gop_per_s']} GOP/s")
    table.add_row("ceiling: products only, best rate", f"{ceiling:.1f} tickets/s")
    table.add_row("the encoder, measured (tokenising included)", f"{measured:.1f} tickets/s")
    table.add_row("encoder / ceiling", f"{measured / ceiling:.0%}")
    table.add_row("issue #6's 200 tickets/s / ceiling", f"{200 / ceiling:.2f}x")
    Console().print(table)

    record = {
        "benchmark": "bench.encoder_ceiling",
        "started_at": started.isoformat(timespec="seconds"),
        "encoder_id": encoder.id,
        "settings": {k: getattr(settings, k) for k in ("encoder_threads", "encode_batch_size", "encode_batch_tokens")},
        "ticket_draw": describe(drawn),
        "figures": figures,
    }
    path = write_result(record, results_dir, "encoder_ceiling-", started)
    Console().print(f"written to {path}")


if __name__ == "__main__":
    app()
