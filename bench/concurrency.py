"""Throughput and latency of POST /v1/triage under concurrent clients, against a running server.

Many helpdesk widgets post one ticket at a time; what matters on a 2-core box is
how the service behaves when several arrive together (micro-batching) and what
a lone ticket costs on an idle server. Start a server on a scratch copy of the
data directory, then point this at it:

    cp -r var /tmp/sift-bench && SIFT_DATA_DIR=/tmp/sift-bench .venv/bin/sift serve --port 8765 &
    .venv/bin/python -m bench.concurrency --url http://127.0.0.1:8765 --clients 8 --requests 50
    .venv/bin/python -m bench.concurrency --url http://127.0.0.1:8765 --clients 1 --requests 30

Each client sends its requests one after another (a new one as soon as the last
is answered), cycling through tickets in several languages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
from pathlib import Path

import httpx

TICKETS = [
    {"text": "My Lumio Hub keeps going offline every night and the lights stop working.", "customer_name": "Ana"},
    {"text": "Moja narudžba 12345 još nije stigla, a platio sam prije dva tjedna!", "customer_name": "Ivan"},
    {"text": "Mein Passwort funktioniert nicht mehr, ich komme nicht in die App."},
    {"text": "¿Cómo devuelvo un producto defectuoso? La bombilla no enciende."},
    {"text": "I was charged twice for order 884211, please refund one of the payments."},
    {"text": "Bonjour, je voudrais annuler mon abonnement Lumio Plus avant le renouvellement."},
    {"text": "Il termostato non si collega al Wi-Fi dopo l'aggiornamento."},
    {"text": "Where is my parcel? It has been ten days and the tracking page shows nothing."},
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(url: str, clients: int, requests: int, timeout: float) -> dict[str, float | int]:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)

    def client(offset: int) -> None:
        nonlocal errors
        with httpx.Client(base_url=url, timeout=timeout) as http:
            start_gate.wait()
            for i in range(requests):
                ticket = TICKETS[(offset + i) % len(TICKETS)]
                t0 = time.perf_counter()
                ok = http.post("/v1/triage", json=ticket).status_code == 200
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
                    errors += not ok

    threads = [threading.Thread(target=client, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    start_gate.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(latencies) / wall, 2),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=50, help="Requests per client.")
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--out", type=Path, help="Also write the figures here as JSON.")
    args = parser.parse_args()
    with httpx.Client(base_url=args.url, timeout=args.timeout) as http:
        http.post("/v1/triage", json=TICKETS[0]).raise_for_status()  # one untimed request first
    figures = run(args.url, args.clients, args.requests, args.timeout)
    print(json.dumps(figures))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
