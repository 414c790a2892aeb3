"""`sift feedback export` and `sift train --format/--include-feedback`, each on a private data directory."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from engine import cli
from engine.cli import app
from engine.models.heads import active_version
from engine.models.registry import ModelRegistry
from engine.settings import REPO_ROOT, Settings, get_settings
from engine.store import Feedback, FeedbackStore, TicketStore

runner = CliRunner()
DEMO = REPO_ROOT / "data" / "demo_tickets.jsonl"


@pytest.fixture()
def private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A data directory of the test's own: training here never changes the session's active heads."""
    monkeypatch.setenv("SIFT_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture()
def shared_encoder(registry: ModelRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI builds its own registry; hand it the session's loaded encoder instead of loading another."""

    class SharingRegistry(ModelRegistry):
        def __init__(self, settings: Settings) -> None:
            super().__init__(settings)
            self.__dict__["encoder"] = registry.encoder

    monkeypatch.setattr("engine.models.registry.ModelRegistry", SharingRegistry)


def demo_rows(per_topic: int) -> list[dict]:
    kept: dict[str, int] = {}
    rows = []
    for line in DEMO.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["topic"] != "out_of_scope" and kept.get(row["topic"], 0) < per_topic:
            kept[row["topic"]] = kept.get(row["topic"], 0) + 1
            rows.append(row)
    return rows


def small_training_file(folder: Path) -> tuple[list[dict], Path]:
    """Six demo tickets a topic, as a JSONL file `sift train` reads."""
    rows = demo_rows(per_topic=6)
    data = folder / "small.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return rows, data


def n_examples(settings: Settings, head: str) -> int:
    version = active_version(settings.heads_dir, head)
    assert version is not None
    return int(json.loads((settings.heads_dir / head / version / "meta.json").read_text())["n_examples"])


def test_feedback_export_joins_the_ticket_text(private: Settings, tmp_path: Path) -> None:
    tickets = TicketStore(private.database_path)
    first, second = tickets.accept([{"text": "Hub offline", "subject": "Hub"}, {"text": "Refund please"}])
    tickets.close()
    store = FeedbackStore(private.database_path)
    store.record(Feedback(ticket_id=first, agent_id="a1", topic="technical", urgency="high"))
    store.record(Feedback(ticket_id=second, agent_id="a2", draft_helped=False, comment="too formal"))
    store.close()

    out = tmp_path / "exports" / "feedback.jsonl"
    result = runner.invoke(app, ["feedback", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 2 feedback rows" in result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["ticket_id"], r["text"], r["subject"]) for r in rows] == [
        (first, "Hub offline", "Hub"), (second, "Refund please", None)
    ]
    assert rows[0]["topic"] == "technical" and rows[0]["urgency"] == "high" and rows[0]["agent_id"] == "a1"
    assert rows[1]["draft_helped"] is False and rows[1]["topic"] is None and rows[1]["comment"] == "too formal"
    assert {"id", "created_at", "handoff", "article_id", "article_helped", "predicted"} <= set(rows[0])


def test_feedback_is_listed_newest_first_and_deleted(private: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli.out, "width", 250)  # whole ids in the table
    tickets = TicketStore(private.database_path)
    first, second = tickets.accept([{"text": "Hub offline"}, {"text": "Refund please"}])
    tickets.close()
    store = FeedbackStore(private.database_path)
    older = store.record(Feedback(ticket_id=first, agent_id="a1", topic="technical")).id
    newer = store.record(Feedback(ticket_id=second, agent_id="a2", urgency="high")).id
    store.close()

    listed = runner.invoke(app, ["feedback", "list"])
    assert listed.exit_code == 0, listed.output
    assert "1-2 of 2" in listed.stdout and listed.stdout.index(newer) < listed.stdout.index(older)
    only = runner.invoke(app, ["feedback", "list", "--ticket", first])
    assert older in only.stdout and newer not in only.stdout
    later = runner.invoke(app, ["feedback", "list", "--since", "2999-01-01"])
    assert later.exit_code == 0 and "0 rows match" in later.stdout
    bad = runner.invoke(app, ["feedback", "list", "--since", "yesterday"])
    assert bad.exit_code == 2 and "--since" in bad.output

    assert runner.invoke(app, ["feedback", "delete", older]).exit_code == 0
    again = runner.invoke(app, ["feedback", "delete", older])
    assert again.exit_code == 2 and "no feedback" in again.output
    store = FeedbackStore(private.database_path)
    assert [r.id for r in store.records()] == [newer]
    store.close()


def test_feedback_export_of_an_empty_log(private: Settings, tmp_path: Path) -> None:
    out = tmp_path / "none.jsonl"
    result = runner.invoke(app, ["feedback", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == ""


@pytest.mark.slow
def test_train_include_feedback_adds_corrected_tickets(
    private: Settings, shared_encoder: None, tmp_path: Path
) -> None:
    rows, data = small_training_file(tmp_path)
    tickets = TicketStore(private.database_path)
    new_a, new_b, known = tickets.accept(
        [
            {"text": "The app logs me out every time I open it and the reset link has expired."},
            {"text": "Mein Konto ist gesperrt, obwohl ich das richtige Passwort eingebe.", "subject": "Konto"},
            {"text": rows[0]["text"]},  # already in the file, with another label
        ]
    )
    tickets.close()
    store = FeedbackStore(private.database_path)
    store.record(Feedback(ticket_id=new_a, topic="billing"))
    store.record(Feedback(ticket_id=new_a, topic="account"))  # the latest correction wins
    store.record(Feedback(ticket_id=new_b, topic="account", urgency="high"))
    store.record(Feedback(ticket_id=known, topic="technical" if rows[0]["topic"] != "technical" else "billing"))
    store.close()

    result = runner.invoke(app, ["train", str(data), "--topic-column", "topic", "--include-feedback"])
    assert result.exit_code == 0, result.output
    assert "added 2 corrected tickets" in result.output
    assert "relabelled 1" in result.output
    assert n_examples(private, "topic") == len(rows) + 2
    assert active_version(private.heads_dir, "urgency") is None  # not asked for: not trained

    without = runner.invoke(app, ["train", str(data), "--topic-column", "topic"])
    assert without.exit_code == 0, without.output
    assert "feedback" not in without.output
    assert n_examples(private, "topic") == len(rows)


@pytest.mark.slow
def test_train_include_feedback_skips_corrupted_rows_and_says_which(
    private: Settings, shared_encoder: None, tmp_path: Path
) -> None:
    rows, data = small_training_file(tmp_path)
    tickets = TicketStore(private.database_path)
    old_taxonomy, blank, good, unreadable = tickets.accept(
        [{"text": "Where is my parcel, it is a week late."}, {"text": "placeholder"},
         {"text": "The app logs me out every time I open it."}, {"text": "My invoice shows the wrong address."}]
    )
    tickets.close()
    store = FeedbackStore(private.database_path)
    ids = [store.record(Feedback(ticket_id=t, topic="account")).id for t in (old_taxonomy, blank, good, unreadable)]
    store.close()
    # Hand-corrupted rows: a topic from an older taxonomy, a ticket whose text is blank, a topic no check allows.
    engine = create_engine(f"sqlite:///{private.database_path}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE feedback SET topic = 'shipping_v1' WHERE id = :id"), {"id": ids[0]})
        conn.execute(text("UPDATE tickets SET payload = :p WHERE id = :id"), {"p": '{"text": " "}', "id": blank})
        conn.execute(text("UPDATE feedback SET topic = '   ' WHERE id = :id"), {"id": ids[3]})
    engine.dispose()

    result = runner.invoke(app, ["train", str(data), "--topic-column", "topic", "--include-feedback"])
    assert result.exit_code == 0, result.output
    assert "added 1 corrected tickets" in result.output
    assert f"feedback skipped: ticket {old_taxonomy}: topic 'shipping_v1' is not a label of the training data" in (
        result.output
    )
    assert f"feedback skipped: ticket {blank}: its text is blank" in result.output
    assert f"feedback skipped: feedback {ids[3]} on ticket {unreadable}: topic" in result.output
    assert n_examples(private, "topic") == len(rows) + 1


@pytest.mark.slow
def test_train_from_a_zendesk_export(private: Settings, shared_encoder: None, tmp_path: Path) -> None:
    export = [
        {
            "id": 1000 + n,
            "subject": row.get("subject") or "",
            "description": row["text"],
            "priority": row["urgency"],
            "tags": ["lumio", f"topic_{row['topic']}"],
        }
        for n, row in enumerate(demo_rows(per_topic=8))
    ]
    path = tmp_path / "zendesk.json"
    path.write_text(json.dumps({"tickets": export}), encoding="utf-8")
    result = runner.invoke(
        app,
        ["train", str(path), "--format", "zendesk", "--topic-column", "tag:topic_", "--urgency-column", "priority"],
    )
    assert result.exit_code == 0, result.output
    assert "activated topic" in result.output and "activated urgency" in result.output
    assert n_examples(private, "topic") == len(export)


@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        (["--format", "zendesk", "--topic-column", "type"], "not json at all", "not JSON"),
        (["--format", "zendesk", "--topic-column", "type", "--text-column", "body"], "[]", "--format auto only"),
        (["--format", "freshdesk", "--topic-column", "Type"], "Subject,Type\nHi,Refund\n", "no column 'Description'"),
    ],
)
def test_train_refuses_bad_exports_with_exit_2(
    private: Settings, tmp_path: Path, args: list[str], content: str, message: str
) -> None:
    path = tmp_path / "export.txt"
    path.write_text(content, encoding="utf-8")
    result = runner.invoke(app, ["train", str(path), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_train_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", str(tmp_path / "x.json"), "--format", "helpscout", "--topic-column", "t"])
    assert result.exit_code == 2


GERMAN = [
    "Mein Paket ist seit einer Woche nicht angekommen.", "Ich möchte mein Passwort zurücksetzen.",
    "Die Rechnung ist doppelt abgebucht worden.", "Wie kann ich meine Bestellung zurückschicken?",
    "Die App stürzt beim Öffnen immer ab.", "Bitte löschen Sie alle meine Daten.",
]


@pytest.mark.slow
def test_train_estimates_language_means_from_unlabelled_files_and_the_ticket_log(
    private: Settings, shared_encoder: None, tmp_path: Path
) -> None:
    _, data = small_training_file(tmp_path)
    german = tmp_path / "german.jsonl"
    german.write_text("\n".join(json.dumps({"text": f"{t} Nummer {i}."}) for i, t in enumerate(GERMAN * 4)))
    tickets = TicketStore(private.database_path)
    ids = tickets.accept([{"text": f"{t} Kunde {i}."} for i, t in enumerate(GERMAN)])
    tickets.complete([(tid, {"route": {"queue": "general"}}) for tid in ids])
    tickets.close()

    only_file = runner.invoke(app, ["train", str(data), "--topic-column", "topic", "--unlabelled", str(german)])
    assert only_file.exit_code == 0, only_file.output
    # The demo file's few German tickets and the 24 unlabelled ones are under the 30 a mean needs: German is
    # centred on the overall mean, and the command says so.
    output = " ".join(only_file.output.split())
    few = output.split("on the overall mean", 1)[1]
    german_texts = int(re.search(r"\bde (\d+)", few).group(1))  # type: ignore[union-attr]
    assert 24 <= german_texts < 30

    with_log = runner.invoke(
        app, ["train", str(data), "--topic-column", "topic", "--unlabelled", str(german), "--unlabelled-from-log"]
    )
    assert with_log.exit_code == 0, with_log.output
    assert "ticket log: 6 processed tickets" in with_log.output
    assert f"language centring: de {german_texts + 6}" in " ".join(with_log.output.split())
    version = active_version(private.heads_dir, "topic")
    assert version is not None and (private.heads_dir / "topic" / version / "language_means.npz").is_file()

    missing = runner.invoke(app, ["train", str(data), "--topic-column", "topic", "--unlabelled", str(tmp_path / "no")])
    assert missing.exit_code == 2 and "does not exist" in missing.output
