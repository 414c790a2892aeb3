"""Static plots of an evaluation report, each a PNG ``data:`` URI the HTML embeds: the page opens offline.

matplotlib's object API (``Figure``), not pyplot: no global figure state, no GUI backend, and nothing kept
alive between reports. Each function takes the JSON figures (``engine/report/figures.py``); where a compared
run is given, its curve is drawn beside this one's.
"""

from __future__ import annotations

import base64
import io
from typing import Any

from matplotlib.figure import Figure

THIS, OTHER = "#1f5fa8", "#c0392b"
ANNOTATED_CLASSES = 20
"""Up to this many classes the confusion matrix prints its counts; beyond, the colours alone are readable."""


def _uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def confusion(head: dict[str, Any], title: str) -> str:
    """Rows are the gold labels, coloured by their share of the row (recall along the diagonal)."""
    c = head["confusion"]
    matrix, truth, predicted = c["matrix"], c["truth"], c["predicted"]
    size = max(4.0, 0.35 * len(predicted) + 2.5)
    fig = Figure(layout="constrained", figsize=(size, max(3.5, 0.35 * len(truth) + 2.0)))
    ax = fig.add_subplot()
    shares = [[v / (sum(row) or 1) for v in row] for row in matrix]
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(predicted)), predicted, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(truth)), truth, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    if len(predicted) <= ANNOTATED_CLASSES:
        for i, row in enumerate(matrix):
            for j, v in enumerate(row):
                if v:
                    ax.text(j, i, str(v), ha="center", va="center", fontsize=7,
                            color="white" if shares[i][j] > 0.5 else "black")
    fig.colorbar(image, ax=ax, label="share of the gold label's tickets")
    return _uri(fig)


def _reliability_line(ax: Any, head: dict[str, Any], colour: str, name: str) -> None:
    bins = head["reliability"]
    ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", color=colour,
            label=f"{name} (ECE {head['ece']:.3f})")


def reliability(head: dict[str, Any], title: str, other: dict[str, Any] | None = None) -> str:
    """Accuracy against stated confidence per bin; the diagonal is perfect calibration."""
    fig = Figure(layout="constrained", figsize=(4.8, 4.2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ":", color="grey", label="calibrated")
    _reliability_line(ax, head, THIS, "this run")
    if other is not None:
        _reliability_line(ax, other, OTHER, "compared run")
    ax.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence", ylabel="accuracy", title=title)
    ax.legend(loc="upper left", fontsize=8)
    return _uri(fig)


def _risk_line(ax: Any, rc: dict[str, Any], colour: str, name: str) -> None:
    xs, ys = zip(*rc["curve"], strict=True) if rc["curve"] else ((), ())
    ax.plot(xs, ys, "-", color=colour, label=f"{name}: by topic confidence")
    point = rc["operating_point"]
    said = f"{point['coverage']:.0%} automated, {point['risk']:.1%} wrong" if point["automated"] else "none automated"
    # clip_on off: a policy that automates nothing sits in the corner, where a clipped star would be half hidden
    ax.plot([point["coverage"]], [point["risk"]], "*", markersize=14, color=colour, clip_on=False,
            label=f"{name}: policy ({said})")


def risk_coverage(rc: dict[str, Any], other: dict[str, Any] | None = None) -> str:
    """Topic error among the automated tickets against their share, with the routing policy's operating point."""
    fig = Figure(layout="constrained", figsize=(6.0, 4.2))
    ax = fig.add_subplot()
    _risk_line(ax, rc, THIS, "this run")
    if other is not None:
        _risk_line(ax, other, OTHER, "compared")
    ax.set(xlim=(0, 1), ylim=(0, None), xlabel="coverage (share handled automatically)",
           ylabel="risk (topic error among them)", title="Risk-coverage")
    ax.legend(loc="upper left", fontsize=7)
    return _uri(fig)


def retrieval(figures: dict[str, Any]) -> str:
    """recall@1, recall@5 and MRR per detected language, side by side."""
    per = figures["per_language"]
    langs = list(per)
    fig = Figure(layout="constrained", figsize=(max(4.0, 0.9 * len(langs) + 2.0), 3.6))
    ax = fig.add_subplot()
    keys = [k for k in next(iter(per.values())) if k != "n"]
    width = 0.8 / len(keys)
    for k, key in enumerate(keys):
        ax.bar([i + k * width for i in range(len(langs))], [per[lang][key] for lang in langs], width, label=key)
    ax.set_xticks([i + width * (len(keys) - 1) / 2 for i in range(len(langs))],
                  [f"{lang} ({per[lang]['n']})" for lang in langs])
    ax.set(ylim=(0, 1), title="Retrieval per detected language")
    ax.legend(fontsize=8)
    return _uri(fig)


def plots(figures: dict[str, Any], other: dict[str, Any] | None = None) -> dict[str, str]:
    """Every plot the figures allow, by id (the HTML's ``<figure id="plot-...">``)."""
    other = other or {}
    out: dict[str, str] = {}
    for head in ("topic", "urgency"):
        if head in figures:
            out[f"confusion-{head}"] = confusion(figures[head], f"{head.capitalize()}: confusion matrix")
            out[f"reliability-{head}"] = reliability(
                figures[head], f"{head.capitalize()}: reliability", other.get(head)
            )
    if "topic" in figures:
        out["risk-coverage"] = risk_coverage(
            figures["topic"]["risk_coverage"], (other.get("topic") or {}).get("risk_coverage")
        )
    if "retrieval" in figures:
        out["retrieval"] = retrieval(figures["retrieval"])
    return out
