"""Headline figures, the issue's targets, and the rich table that shows them."""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table

from bench.measure import percentile

# (figure, comparison, threshold, what the target says): the figures issue #6 asks Sift to reach.
TARGETS: tuple[tuple[str, str, float, str], ...] = (
    ("batch_vs_peer", ">=", 5.0, "throughput >= 5x the naive peer"),
    ("sift_batch_tickets_per_s", ">=", 200.0, "batch triage >= 200 tickets/s on 2 cores"),
    ("p50_over_encoder", "<=", 1.5, "API latency of a ticket <= 1.5x the encoder's forward pass for it, at p50"),
    ("p95_over_encoder", "<=", 3.0, "the same ratio <= 3x at p95"),
    ("sift_server_peak_rss_mib", "<=", 1536.0, "serving process peak RSS <= 1.5 GiB"),
)


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or not b or math.isnan(a) or math.isnan(b):
        return None
    return round(a / b, 2)


def per_ticket_ratios(api_ms: list[float], encoder_ms: list[float]) -> dict[str, float | None]:
    """p50 and p95 over tickets of (API latency of the ticket) / (encoder time for the same ticket).

    The issue compares each ticket with the encoder's time for it: a long e-mail takes longer through the API
    and through the encoder alike, so a p95 of latencies over a median of encoder times would mostly measure
    the length mix.
    """
    ratios = [a / e for a, e in zip(api_ms, encoder_ms, strict=False) if e > 0]
    if not ratios:
        return {"p50": None, "p95": None}
    return {"p50": round(percentile(ratios, 50), 2), "p95": round(percentile(ratios, 95), 2)}


def latency_by_group(api_ms: list[float], encoder_ms: list[float], groups: list[str]) -> dict[str, dict[str, Any]]:
    """Per group of tickets (a source data set): the encoder floor, API latency and their per-ticket ratios.

    The sources differ in length: one-line requests sit close to the fixed costs of HTTP and the other stages,
    long e-mails close to the encoder. Where the headline ratio misses its target, this says on which.
    """
    out: dict[str, dict[str, Any]] = {}
    measured = min(len(api_ms), len(encoder_ms), len(groups))
    for group in sorted(set(groups)):
        rows = [i for i in range(measured) if groups[i] == group]
        api, encoder = [api_ms[i] for i in rows], [encoder_ms[i] for i in rows]
        ratios = per_ticket_ratios(api, encoder)
        out[group] = {
            "n": len(rows),
            "encoder_p50_ms": round(percentile(encoder, 50), 2),
            "api_p50_ms": round(percentile(api, 50), 2),
            "api_minus_encoder_p50_ms": round(percentile([a - e for a, e in zip(api, encoder, strict=True)], 50), 2),
            "p50_over_encoder": ratios["p50"],
            "p95_over_encoder": ratios["p95"],
        }
    return out


def group_table(groups: dict[str, dict[str, Any]]) -> Table:
    table = Table(title="single-ticket latency by source", title_justify="left")
    for heading in ("source", "tickets", "encoder p50", "API p50", "API - encoder p50", "ratio p50", "ratio p95"):
        table.add_column(heading, justify="left" if heading == "source" else "right")
    for name, g in groups.items():
        table.add_row(
            name, str(g["n"]), _fmt(g["encoder_p50_ms"], " ms"), _fmt(g["api_p50_ms"], " ms"),
            _fmt(g["api_minus_encoder_p50_ms"], " ms"), _fmt(g["p50_over_encoder"], "x", 2),
            _fmt(g["p95_over_encoder"], "x", 2),
        )
    return table


def headline(sift: dict[str, Any], api: dict[str, Any], peer: dict[str, Any]) -> dict[str, Any]:
    """The figures the table shows, flat, from the three phases' results."""
    batch, floor = sift["batch"], sift["encoder"]
    figures = {
        "sift_batch_tickets_per_s": batch["tickets_per_s"],
        "sift_batch_tickets_per_s_with_startup": batch["tickets_per_s_with_startup"],
        "sift_api_sequential_tickets_per_s": api["sequential_tickets_per_s"],
        "sift_api_batch_tickets_per_s": (api.get("batch") or {}).get("tickets_per_s"),
        "peer_tickets_per_s": peer["tickets_per_s"],
        "api_latency_p50_ms": api["latency"]["p50_ms"],
        "api_latency_p95_ms": api["latency"]["p95_ms"],
        "encoder_one_ticket_p50_ms": floor["p50_ms"],
        "encoder_one_ticket_p95_ms": floor["p95_ms"],
        "peer_one_ticket_p50_ms": peer["latency"]["p50_ms"],
        "peer_one_ticket_p95_ms": peer["latency"]["p95_ms"],
        "sift_server_peak_rss_mib": api["memory"]["peak_rss_mib"],
        "sift_server_ready_s": api["ready_s"],
        "sift_batch_process_peak_rss_mib": sift["memory"]["peak_rss_mib"],
        "peer_peak_rss_mib": peer["memory"]["peak_rss_mib"],
    }
    ratios = per_ticket_ratios(api["latency"].get("each_ms", []), floor.get("each_ms", []))
    figures["p50_over_encoder"] = ratios["p50"]
    figures["p95_over_encoder"] = ratios["p95"]
    figures["api_p50_over_encoder_p50"] = _ratio(figures["api_latency_p50_ms"], figures["encoder_one_ticket_p50_ms"])
    figures["api_p95_over_encoder_p95"] = _ratio(figures["api_latency_p95_ms"], figures["encoder_one_ticket_p95_ms"])
    figures["batch_vs_peer"] = _ratio(figures["sift_batch_tickets_per_s"], figures["peer_tickets_per_s"])
    figures["api_sequential_vs_peer"] = _ratio(
        figures["sift_api_sequential_tickets_per_s"], figures["peer_tickets_per_s"]
    )
    figures["peer_rss_over_sift_server"] = _ratio(figures["peer_peak_rss_mib"], figures["sift_server_peak_rss_mib"])
    return figures


def check_targets(figures: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name, op, threshold, text in TARGETS:
        value = figures.get(name)
        met = None if value is None else (value >= threshold if op == ">=" else value <= threshold)
        out.append({"figure": name, "target": f"{op} {threshold:g}", "value": value, "met": met, "says": text})
    return out


def _fmt(value: Any, unit: str = "", digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}{unit}"


def table(figures: dict[str, Any], targets: list[dict[str, Any]], meta: dict[str, Any]) -> Table:
    verdict = {t["figure"]: t for t in targets}

    def mark(name: str) -> tuple[str, str]:
        t = verdict.get(name)
        if t is None:
            return "", ""
        sign = {True: "[green]yes[/green]", False: "[red]no[/red]", None: "-"}[t["met"]]
        return t["target"], sign

    n, n_api, n_api_batch = meta["tickets"], meta["latency_requests"], meta["api_batch_tickets"]
    t = Table(title=f"Sift vs naive peer: {n} tickets, one run, {meta['cores']} cores", title_justify="left")
    t.add_column("figure")
    t.add_column("value", justify="right")
    t.add_column("target", justify="right")
    t.add_column("met", justify="center")
    rows = [
        ("throughput, tickets/s", None, None),
        (f"Sift batch (CLI path, batch {meta['batch_size']}, {n} tickets)", "sift_batch_tickets_per_s", ""),
        ("Sift batch, start-up included", "sift_batch_tickets_per_s_with_startup", ""),
        (f"Sift API, one ticket at a time ({n_api} requests)", "sift_api_sequential_tickets_per_s", ""),
        (f"Sift API /v1/triage/batch ({n_api_batch} tickets)", "sift_api_batch_tickets_per_s", ""),
        (f"peer, one ticket at a time ({n} tickets)", "peer_tickets_per_s", ""),
        ("Sift batch / peer", "batch_vs_peer", "x"),
        ("Sift API one-at-a-time / peer", "api_sequential_vs_peer", "x"),
        ("latency of one ticket, ms", None, None),
        ("Sift API p50 (client side, keep-alive)", "api_latency_p50_ms", ""),
        ("Sift API p95", "api_latency_p95_ms", ""),
        ("encoder forward pass, one ticket, p50", "encoder_one_ticket_p50_ms", ""),
        ("encoder forward pass, one ticket, p95", "encoder_one_ticket_p95_ms", ""),
        ("API / encoder for the same ticket, p50", "p50_over_encoder", "x"),
        ("API / encoder for the same ticket, p95", "p95_over_encoder", "x"),
        ("API p50 / encoder p50", "api_p50_over_encoder_p50", "x"),
        ("API p95 / encoder p95", "api_p95_over_encoder_p95", "x"),
        ("peer p50 (in-process)", "peer_one_ticket_p50_ms", ""),
        ("peer p95 (in-process)", "peer_one_ticket_p95_ms", ""),
        ("memory, peak RSS MiB", None, None),
        ("Sift server (sift serve)", "sift_server_peak_rss_mib", ""),
        ("Sift batch process", "sift_batch_process_peak_rss_mib", ""),
        ("peer process", "peer_peak_rss_mib", ""),
        ("Sift server: start to /readyz, s", "sift_server_ready_s", ""),
    ]
    for label, key, unit in rows:
        if key is None:
            t.add_section()
            t.add_row(f"[bold]{label}[/bold]", "", "", "")
            continue
        digits = 2 if unit == "x" else 1
        target, met = mark(key)
        t.add_row(label, _fmt(figures.get(key), unit, digits), target, met)
    return t
