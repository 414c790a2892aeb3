"""Static plots of a backtest report, each a PNG ``data:`` URI the HTML embeds: the page opens offline.

The same object-API matplotlib as ``engine/report/plots.py`` (no pyplot state, no GUI backend). ``plot_ids``
decides which plots a report has, and the JSON report lists them, so a reader (or a test) knows how many
images the page must show.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from engine.report.history import NO_DATE, UNKNOWN
from engine.report.plots import _uri

MAX_GROUPS = 20
"""Bars per rates plot: the largest groups; the table beside it lists them all."""
MAX_TOPICS = 9
"""Topics drawn apart in the stacked plot; the rest are summed as "other"."""
RATES = (
    ("automation_share", "automated", "#1f5fa8"),
    ("error_rate", "wrong among automated", "#c0392b"),
    ("deflection_estimate", "deflection estimate", "#2e8b57"),
    ("risk_share", "risk handoffs", "#e67e22"),
)
TITLES = {"queue": "Per queue", "channel": "Per channel", "language": "Per language", "month": "Per month"}


def _informative(groups: list[dict[str, Any]]) -> bool:
    """Worth a plot: more than one group, or one that is not just "unknown" or "no date"."""
    return len(groups) > 1 or (len(groups) == 1 and groups[0]["key"] not in (UNKNOWN, NO_DATE))


def plot_ids(report: dict[str, Any]) -> list[str]:
    """The plots this report has, in page order (the HTML's ``<figure id="plot-...">``)."""
    ids = [f"rates-{d}" for d, groups in report["by"].items() if _informative(groups)]
    if report.get("topics_by_month"):
        ids.append("topics-by-month")
    if report.get("handoff_reasons"):
        ids.append("handoff-reasons")
    return ids


def rates(groups: list[dict[str, Any]], title: str) -> str:
    """Automation share, error rate, deflection estimate and risk share per group, as horizontal bars."""
    shown = groups[:MAX_GROUPS]
    names = [f"{g['key']} ({g['tickets']})" for g in shown]
    height = max(2.6, 0.55 * len(shown) + 1.6)
    fig = Figure(layout="constrained", figsize=(8.0, height))
    ax = fig.add_subplot()
    width = 0.8 / len(RATES)
    for k, (key, label, colour) in enumerate(RATES):
        values = [g[key] if g[key] is not None else 0.0 for g in shown]
        ax.barh([i + k * width for i in range(len(shown))], values, width, label=label, color=colour)
        if key == "error_rate":  # the figure that matters most, and a zero-length bar says nothing: write it out
            for i, g in enumerate(shown):
                if g["judged"]:
                    ax.text(values[i] + 0.01, i + k * width, f"{g['wrong']}/{g['judged']} wrong", va="center",
                            fontsize=7, color=colour)
    ax.set_yticks([i + width * (len(RATES) - 1) / 2 for i in range(len(shown))], names, fontsize=8)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="share of the group's tickets (error: of its automated, recorded ones)", title=title)
    ax.legend(fontsize=7, loc="lower right")
    return _uri(fig)


def topics_by_month(data: dict[str, Any]) -> str:
    """Tickets per Sift topic per month, stacked: the largest topics apart, the rest as "other"."""
    months, topics = data["months"], data["topics"]
    names = list(topics)[:MAX_TOPICS]
    series = {t: topics[t] for t in names}
    rest = [sum(topics[t][i] for t in list(topics)[MAX_TOPICS:]) for i in range(len(months))]
    if any(rest):
        series["other"] = rest
    fig = Figure(layout="constrained", figsize=(max(6.0, 0.5 * len(months) + 3.5), 4.2))
    ax = fig.add_subplot()
    bottom = [0] * len(months)
    colours = [f"C{i}" for i in range(10) if i != 7]  # C7 (grey) is kept for "(no topic)" and "other"
    for i, (topic, counts) in enumerate(series.items()):
        grey = topic in ("other", "(no topic)")
        ax.bar(months, counts, 0.7, bottom=bottom, label=topic, color="C7" if grey else colours[i % len(colours)])
        bottom = [b + c for b, c in zip(bottom, counts, strict=True)]
    ax.set(ylabel="tickets", title="Tickets per topic per month")
    ax.set_ylim(0, max(bottom) * 1.08 or 1)  # headroom: the tallest month's top must not meet the frame
    ax.tick_params(axis="x", labelrotation=45 if len(months) > 6 else 0, labelsize=8)
    handles, labels = ax.get_legend_handles_labels()  # the legend in the stack's order, top first
    ax.legend(handles[::-1], labels[::-1], fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return _uri(fig)


def handoff_reasons(reasons: dict[str, int], tickets: int) -> str:
    """How often each handoff reason fired, as a share of all tickets (one ticket may have several)."""
    names = list(reasons)[:MAX_GROUPS]
    fig = Figure(layout="constrained", figsize=(7.0, max(2.4, 0.35 * len(names) + 1.4)))
    ax = fig.add_subplot()
    ax.barh(names, [reasons[n] / tickets for n in names], color="#7f8c8d")
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.set(xlim=(0, 1), xlabel="share of tickets", title="Handoff reasons")
    return _uri(fig)


def plots(report: dict[str, Any]) -> dict[str, str]:
    """Every plot ``plot_ids`` names, by id."""
    out: dict[str, str] = {}
    for plot_id in plot_ids(report):
        if plot_id.startswith("rates-"):
            dimension = plot_id.removeprefix("rates-")
            out[plot_id] = rates(report["by"][dimension], TITLES[dimension])
        elif plot_id == "topics-by-month":
            out[plot_id] = topics_by_month(report["topics_by_month"])
        else:
            out[plot_id] = handoff_reasons(report["handoff_reasons"], report["tickets"])
    return out
