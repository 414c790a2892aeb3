"""KB import: Zendesk Help Center exports and FAQ sheets become Markdown articles `sift index` reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli import app
from engine.errors import InvalidInput
from engine.kb.articles import chunk_article, load_kb
from engine.kb.importers import html_to_markdown, import_faq_csv, import_zendesk, write_articles

runner = CliRunner()

ZENDESK = {
    "articles": [
        {
            "id": 360001,
            "title": "Reset your password",
            "locale": "en-us",
            "source_locale": "en-us",
            "section_id": 11,
            "label_names": ["account", "password"],
            "draft": False,
            "user_segment_id": None,
            "html_url": "https://help.example/hc/en-us/articles/360001",
            "updated_at": "2025-03-04T10:00:00Z",
            "body": "<h1>Overview</h1><p>Forgot it? <strong>No problem</strong>.</p><p>&nbsp;</p>"
            "<h2>Steps</h2><ol><li>Open <a href='https://x'>settings</a></li><li>Click <em>Reset</em>"
            "<img src='a.png' alt='button'></li></ol><h3>Still stuck</h3><ul><li>Contact us</li></ul>",
        },
        {
            "id": 360001,
            "title": "Passwort zurücksetzen",
            "locale": "de",
            "source_locale": "en-us",
            "draft": False,
            "user_segment_id": None,
            "label_names": [],
            "body": "<h2>Schritte</h2><p>Öffnen Sie die Einstellungen.</p>",
        },
        {"id": 360002, "title": "Goodwill macro", "locale": "en-us", "user_segment_id": 99, "body": "<p>Agents only.</p>"},
        {"id": 360003, "title": "Work in progress", "locale": "en-us", "draft": True, "body": "<p>x</p>"},
        {"id": 360004, "title": "Placeholder", "locale": "en-us", "body": None},
    ]
}


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_html_keeps_headings_and_lists() -> None:
    md = html_to_markdown("<h1>A</h1><p>x&nbsp;</p><ul><li>one</li><li>two<ol><li>sub</li></ol></li></ul>")
    assert md.startswith("## A\n\nx")
    assert "- one\n- two\n  1. sub" in md


def test_zendesk_export_becomes_linked_articles(tmp_path: Path) -> None:
    result = import_zendesk([write_json(tmp_path / "articles.json", ZENDESK)], product="hub")
    assert result.skipped == {"draft": 1, "empty body": 1}
    by_id = {a.id: a for a in result.articles}
    assert set(by_id) == {"zendesk-360001-en-us", "zendesk-360001-de", "zendesk-360002-en-us"}
    assert by_id["zendesk-360001-de"].translation_of == "zendesk-360001-en-us"
    assert by_id["zendesk-360001-en-us"].translation_of is None
    assert by_id["zendesk-360002-en-us"].audience == "internal"

    paths = write_articles(result.articles, tmp_path / "kb")
    assert len(paths) == 3
    articles = {a.id: a for a in load_kb(tmp_path / "kb")}
    source = articles["zendesk-360001-en-us"]
    assert (source.language, source.product, source.tags, source.updated) == ("en", "hub", ("account", "password"), "2025-03-04")
    assert [c.section for c in chunk_article(source)] == ["Overview", "Steps", "Still stuck"]
    assert "1. Open [settings](https://x)\n2. Click *Reset*" in source.body and "png" not in source.body
    assert articles["zendesk-360001-de"].language == "de" and articles["zendesk-360001-de"].family == source.id
    text = paths[0].read_text(encoding="utf-8")
    assert "html_url: https://help.example/hc/en-us/articles/360001" in text and "section_id: 11" in text


def test_zendesk_list_and_translation_before_source(tmp_path: Path) -> None:
    german, english = ZENDESK["articles"][1], ZENDESK["articles"][0]
    result = import_zendesk([write_json(tmp_path / "a.json", [german, english])], product="hub")
    linked = {a.id: a.translation_of for a in result.articles}
    assert linked == {"zendesk-360001-de": "zendesk-360001-en-us", "zendesk-360001-en-us": None}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "is not JSON"),
        ('{"tickets": []}', "expected {\"articles\": [...]}"),
        ('"text"', "found str"),
        ('{"articles": [1]}', "expected an article object"),
        ('{"articles": [{"id": 1, "locale": "en", "body": "<p>x</p>"}]}', "articles[0].title: the article has no title"),
        ('{"articles": [{"id": 1, "title": "t", "locale": "en", "body": 5}]}', "expected HTML text"),
        (
            '{"articles": [{"id": 1, "title": "t", "locale": "en", "body": "a"}, '
            '{"id": 1, "title": "t", "locale": "en", "body": "b"}]}',
            "appears twice",
        ),
    ],
)
def test_malformed_zendesk_exports_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        import_zendesk([path], product="hub")
    assert message in str(caught.value)


FAQ = (
    "Frage,Antwort,language,tags,audience,id\n"
    'How do I pair the hub?,"Hold the button for 5 s.\nThen open the app.",en,"hub, pairing",,pair\n'
    "Wie koppele ich den Hub?,<p>Knopf <b>5 s</b> halten.</p>,de-DE,hub,,pair\n"
    "How do agents escalate?,Use the escalation macro.,en,,internal,\n"
    ",An answer without a question,en,,,\n"
)


def test_faq_csv_with_renamed_columns(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(FAQ, encoding="utf-8")
    result = import_faq_csv([path], product="hub", language="en", columns={"question": "Frage", "answer": "Antwort"})
    assert result.skipped == {"empty question or answer": 1}
    by_id = {a.id: a for a in result.articles}
    assert set(by_id) == {"faq-pair-en", "faq-pair-de", "faq-how-do-agents-escalate-en"}
    assert by_id["faq-pair-de"].translation_of == "faq-pair-en"
    assert by_id["faq-pair-de"].body == "Knopf **5 s** halten."
    assert by_id["faq-pair-en"].tags == ("hub", "pairing")
    assert by_id["faq-how-do-agents-escalate-en"].audience == "internal"

    write_articles(result.articles, tmp_path / "kb")
    articles = {a.id: a for a in load_kb(tmp_path / "kb")}
    pair = articles["faq-pair-en"]
    assert pair.title == "How do I pair the hub?" and pair.body == "Hold the button for 5 s.\nThen open the app."
    assert [c.section for c in chunk_article(pair)] == ["How do I pair the hub?"]


@pytest.mark.parametrize(
    ("content", "columns", "message"),
    [
        ("", None, "no header row"),
        ("q,a\nx,y\n", None, "no column 'question'"),
        ("question,answer\nx,y\n", {"tags": "Keywords"}, "no column 'Keywords'"),
        ("question,answer\nx,y,z\n", None, "line 2 has more fields than the header"),
        ("question,answer,audience\nx,y,secret\n", None, "audience must be one of"),
        ("question,answer,language\nx,y,english please\n", None, "not an ISO 639-1 code"),
        ("question,answer,updated\nx,y,last week\n", None, "is not a date"),
        ("question,answer\nSame?,a\nSame?,b\n", None, "repeats the one on"),
        ('question,answer\n"unclosed,y\n', None, "not valid CSV"),
    ],
)
def test_malformed_faq_files_are_refused(tmp_path: Path, content: str, columns: dict | None, message: str) -> None:
    path = tmp_path / "faq.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InvalidInput) as caught:
        import_faq_csv([path], product="hub", language="en", columns=columns)
    assert message in str(caught.value)


def test_cli_writes_the_articles(tmp_path: Path) -> None:
    export = write_json(tmp_path / "articles.json", ZENDESK)
    result = runner.invoke(app, ["kb", "import", str(export), "--format", "zendesk", "--out", str(tmp_path / "kb")])
    assert result.exit_code == 0, result.output
    assert "wrote 3 articles (1 translations, 1 internal)" in result.stdout
    assert len(list((tmp_path / "kb").glob("*.md"))) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "zendesk"], "is not JSON"),
        (["--format", "faq-csv"], "no column 'question'"),
        (["--format", "zendesk", "--language", "de"], "--language: applies to --format faq-csv only"),
        (["--format", "faq-csv", "--column", "tags"], "expected FIELD=COLUMN"),
        (["--format", "faq-csv", "--column", "colour=Farbe"], "unknown FAQ fields ['colour']"),
    ],
)
def test_cli_bad_files_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("q,a\n{oops\n", encoding="utf-8")
    result = runner.invoke(app, ["kb", "import", str(bad), "--out", str(tmp_path / "kb"), *args])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "kb").exists()


def test_cli_missing_file_and_empty_import_exit_2(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["kb", "import", str(tmp_path / "nope.json"), "--format", "zendesk"])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    drafts = write_json(tmp_path / "drafts.json", [ZENDESK["articles"][3]])
    empty = runner.invoke(app, ["kb", "import", str(drafts), "--format", "zendesk", "--out", str(tmp_path / "kb")])
    assert empty.exit_code == 2 and "nothing to import; skipped (draft: 1)" in empty.output
