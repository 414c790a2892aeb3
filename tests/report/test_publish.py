"""Report commands publish into ``Settings.reports_dir``, where the console lists them; the eval report carries
the console's draft-edit figures from the service's feedback store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.models.registry import ModelRegistry
from engine.report.evaluation import draft_edit_figures, render_html
from engine.settings import REPO_ROOT, get_settings
from engine.store import Feedback, FeedbackStore, TicketStore
from engine.web.published import kind_of, listing, report_path


def test_draft_edit_figures_count_each_tickets_latest_decision(tmp_path: Path) -> None:
    path = tmp_path / "sift.db"
    assert draft_edit_figures(path) is None and not path.exists()  # no ticket log is made for a report
    tickets = TicketStore(path)
    ids = tickets.accept([{"text": f"ticket {i}"} for i in range(4)])
    store = FeedbackStore(path)
    assert draft_edit_figures(path) is None
    store.record(Feedback(ids[0], draft_action="discarded"))
    store.record(Feedback(ids[0], draft_action="sent", draft_edit_distance=0.0))  # changed their mind: sent
    store.record(Feedback(ids[1], draft_action="sent", draft_edit_distance=0.5))
    store.record(Feedback(ids[2], draft_action="discarded"))
    store.record(Feedback(ids[3], topic="billing"))
    figures = draft_edit_figures(path)
    assert figures == {
        "decided": 3, "sent": 2, "sent_unedited": 1, "discarded": 1, "sent_unedited_share": 0.3333,
        "mean_edit_distance": 0.25, "discard_share": 0.3333,
    }
    store.close()
    tickets.close()
    report = {"data": "set.csv", "created": "now", "tickets": 3, "models": {}, "draft_edits": figures}
    html = render_html(report)
    assert 'id="section-draft-edits"' in html and "drafts sent unedited" in html  # a headline too
    assert ">0.250<" in html


def test_published_reports_are_listed_newest_first_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    assert listing(folder) == []
    folder.mkdir()
    (folder / "eval-20260101T000000Z.html").write_text("a")
    (folder / "gaps-20260102T000000Z.html").write_text("b")
    (folder / ".eval-x.html.123.tmp").write_text("half")
    (folder / "notes.txt").write_text("c")
    (tmp_path / "outside.html").write_text("d")
    (folder / "link.html").symlink_to(tmp_path / "outside.html")
    import os

    os.utime(folder / "eval-20260101T000000Z.html", (1, 1))
    assert [(p.name, p.kind) for p in listing(folder)] == [
        ("gaps-20260102T000000Z.html", "KB gaps"), ("eval-20260101T000000Z.html", "evaluation"),
    ]
    assert kind_of("backtest-1.html") == "backtest" and kind_of("custom.html") == "report"
    assert report_path(folder, "gaps-20260102T000000Z.html").read_text() == "b"
    from engine.errors import NotFound

    for name in ("link.html", "../outside.html", "notes.txt", ".eval-x.html.123.tmp", "missing.html", ""):
        with pytest.raises(NotFound):
            report_path(folder, name)


@pytest.mark.slow
def test_eval_and_gaps_publish_into_the_reports_folder(ready_registry: ModelRegistry, tmp_path: Path) -> None:
    rows = [json.loads(line) for line in (REPO_ROOT / "data" / "demo_tickets.jsonl").read_text().splitlines()]
    data = tmp_path / "set.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows[::60]))
    folder = get_settings().reports_dir
    before = {p.name for p in listing(folder)}
    result = CliRunner().invoke(app, ["eval", str(data), "--topic-column", "topic"])  # no --out: published
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(app, ["gaps", "--publish", "--min-tickets", "2"])
    assert result.exit_code == 0, result.output
    new = [p for p in listing(folder) if p.name not in before]
    assert sorted(p.kind for p in new) == ["KB gaps", "evaluation"]
    assert all(oct((folder / p.name).stat().st_mode & 0o777) == "0o600" for p in new)
