"""What a tenant costs a serving process: RSS with the default tenant alone against the same with more tenants.

    .venv/bin/python -m bench.tenant_memory --tenants 2

Each extra tenant is a helpdesk the size of the shipped demo (the 45 articles of kb_content/ and heads trained on
data/demo_tickets.jsonl) in its own data directory, so its index is built and its heads trained at first start,
as for a new tenant. The server (`sift serve`, one worker) is started twice on scratch copies of one prepared data
directory: once without tenants, once with ``--tenants`` of them. When it is ready, every tenant answers
``--requests`` triage requests (real Bitext and tickets-multilang tickets), then the worker's RSS and USS are
read. The difference divided by the number of tenants is what one more tenant costs; the models (encoder,
language identification, sentiment, risk) are loaded once per process whatever the number of tenants.
Writes bench/results/tenant_memory-<UTC timestamp>.json and prints the figures.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.load import MemorySampler, all_ready, serve, stop_tree
from bench.measure import RESULTS_DIR, write_result
from bench.server import prepare_data_dir
from bench.tickets import REPO_ROOT, draw_tickets
from engine.settings import Settings


def settings_file(folder: Path, tenants: int) -> Path:
    """A sift.toml naming ``tenants`` demo-sized tenants, each with the shipped KB and demo training data."""
    lines = ["translators = []"]
    for i in range(tenants):
        lines += [f"[tenants.t{i}]", f'kb_dir = "{REPO_ROOT / "kb_content"}"',
                  f'default_training_data = "{REPO_ROOT / "data" / "demo_tickets.jsonl"}"', f'brand = "Tenant {i}"']
    path = folder / f"sift-{tenants}.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def measure(source: Path, folder: Path, tenants: int, requests: int) -> dict[str, Any]:
    """Start, let each tenant answer ``requests`` tickets through keys of its own, read the worker's memory."""
    import httpx

    from engine.store.keys import KeyStore

    data_dir = prepare_data_dir(source, folder / f"data-{tenants}")
    store = KeyStore(data_dir / "sift.db")
    keys = {name: store.create(f"{name}-bench", ["triage"], tenant=name)[1]
            for name in ["default", *(f"t{i}" for i in range(tenants))]}
    store.close()
    log_path = folder / f"serve-{tenants}.log"
    proc, base = serve(data_dir, 1, log_path, settings_file(folder, tenants))
    try:
        began = time.perf_counter()
        all_ready(proc, base, log_path, timeout_s=1800)
        ready_s = time.perf_counter() - began
        tickets = draw_tickets(requests, seed=7)
        with httpx.Client(base_url=base, timeout=120) as client:
            for secret in keys.values():
                for ticket in tickets:
                    answer = client.post("/v1/triage", json=ticket.payload(), headers={"X-API-Key": secret})
                    answer.raise_for_status()
        memory = MemorySampler(proc.pid).snapshot(full=True)
    finally:
        stop_tree(proc)
    worker = next(p for p in memory["processes"].values() if p["role"] in ("worker", "server"))
    return {"tenants": tenants, "ready_s": round(ready_s, 1), "rss_mib": worker["rss_mib"],
            "uss_mib": worker.get("uss_mib"), "requests_per_tenant": requests}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenants", type=int, default=2)
    parser.add_argument("--requests", type=int, default=20, help="Triage requests each tenant answers first.")
    parser.add_argument("--data-dir", type=Path, default=None, help="Prepared data directory to copy "
                                                                   "(default: the settings' data_dir).")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    if args.tenants < 1 or args.requests < 1:
        parser.error("--tenants and --requests must be at least 1")
    started = datetime.now(UTC)
    source = args.data_dir or Settings().data_dir
    with tempfile.TemporaryDirectory(prefix="sift-tenants-") as tmp:
        runs = [measure(source, Path(tmp), n, args.requests) for n in (0, args.tenants)]
    alone, many = runs
    per_tenant = {key: round((many[key] - alone[key]) / args.tenants, 1) for key in ("rss_mib", "uss_mib")
                  if many.get(key) is not None and alone.get(key) is not None}
    record = {"benchmark": "bench.tenant_memory", "started": started.isoformat(), "runs": runs,
              "per_extra_tenant": per_tenant}
    for run in runs:
        print(f"{run['tenants']} extra tenants: ready in {run['ready_s']} s, worker RSS {run['rss_mib']} MiB, "
              f"USS {run['uss_mib']} MiB")
    print(f"each extra tenant: RSS +{per_tenant.get('rss_mib')} MiB, USS +{per_tenant.get('uss_mib')} MiB")
    print(f"written {write_result(record, args.results_dir, 'tenant_memory-', started)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
