"""`sift eval` end to end: the real pipeline and heads on demo tickets, a JSON run compared in an HTML one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.models.registry import ModelRegistry
from engine.settings import REPO_ROOT
from engine.store import TicketStore

pytestmark = pytest.mark.slow


def _logged(registry: ModelRegistry) -> int:
    store = TicketStore(registry.settings.database_path)
    try:
        return len(store.processed())
    finally:
        store.close()


def test_eval_reports_the_installed_heads_and_compares_runs(ready_registry: ModelRegistry, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (REPO_ROOT / "data" / "demo_tickets.jsonl").read_text().splitlines()]
    data = tmp_path / "set.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows[::12]))  # 61 tickets, every topic
    columns = ["--topic-column", "topic", "--urgency-column", "urgency", "--language-column", "language",
               "--subject-column", "subject"]
    logged = _logged(ready_registry)
    first = CliRunner().invoke(app, ["eval", str(data), *columns, "--out", str(tmp_path / "a.json")])
    assert first.exit_code == 0, first.output
    report = json.loads((tmp_path / "a.json").read_text())
    assert report["tickets"] == len(rows[::12])
    # The default heads learnt these very tickets: a report that mislabels them is reading the wrong field.
    assert report["topic"]["accuracy"] > 0.7 and report["urgency"]["accuracy"] > 0.6
    assert report["language"]["accuracy"] > 0.9
    assert report["models"]["topic"] and report["models"]["encoder"]
    assert 0.0 <= report["topic"]["risk_coverage"]["operating_point"]["coverage"] <= 1.0
    assert report["latency"]["p50_ms"] > 0 and "encode" in report["latency"]["stages_mean_ms"]
    gaps = report["gaps"]  # the KB's misses on this set, as `sift gaps` groups them
    assert gaps["tickets_read"] == len(rows[::12]) and 0 <= gaps["unanswered"] <= gaps["tickets_read"]
    assert all(g["tickets"] >= 2 and "ticket_ids" not in g for g in gaps["gaps"])
    second = CliRunner().invoke(
        app, ["eval", str(data), *columns, "--compare", str(tmp_path / "a.json"), "--out", str(tmp_path / "b.html")]
    )
    assert second.exit_code == 0, second.output
    html = (tmp_path / "b.html").read_text()
    assert "compared run" in html and 'id="plot-risk-coverage"' in html and 'id="section-gaps"' in html
    assert _logged(ready_registry) == logged  # evaluation tickets stay out of the ticket log
