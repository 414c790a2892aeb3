"""Past tickets for `sift backtest` from plain files and exports; bad input is refused naming the option."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.report.history import NO_DATE, UNKNOWN, Columns, month_of, read_file, sift_channel

CSV = """text,subject,queue,created,via
My hub is offline,Hub,tech-support,2024-03-04T09:12:44Z,email
Refund please,,billing,2024-04-01,Web
,,billing,2024-04-02,email
Where is my parcel?,,orders,,chat
"""


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def test_plain_csv_keeps_months_channels_and_recorded_queues(tmp_path: Path) -> None:
    columns = Columns(subject="subject", queue="queue", date="created", channel="via")
    history = read_file(write(tmp_path, "past.csv", CSV), "auto", columns)
    assert [t.ticket.text for t in history.tickets] == ["My hub is offline", "Refund please", "Where is my parcel?"]
    assert history.tickets[0].ticket.subject == "Hub"
    assert [t.month for t in history.tickets] == ["2024-03", "2024-04", NO_DATE]
    assert [t.channel for t in history.tickets] == ["email", "web", "chat"]
    assert [t.ticket.channel for t in history.tickets] == ["email", "web", "chat"]
    assert [t.queue for t in history.tickets] == ["tech-support", "billing", "orders"]
    assert history.skipped == 1 and history.recorded == ("queue",) and history.dated


def test_limit_and_a_file_without_dates(tmp_path: Path) -> None:
    history = read_file(write(tmp_path, "past.csv", CSV), "csv", Columns(), limit=2)
    assert len(history.tickets) == 2 and not history.dated and history.recorded == ()
    assert {t.month for t in history.tickets} == {NO_DATE} and {t.channel for t in history.tickets} == {UNKNOWN}


def test_exports_are_told_apart_by_auto(tmp_path: Path) -> None:
    fresh = {"tickets": [{"id": 1, "subject": "Hi", "description_text": "Login fails", "source": 3,
                          "created_at": "2024-05-06T07:08:09Z", "type": "Account"}]}
    history = read_file(write(tmp_path, "fd.json", json.dumps(fresh)), "auto", Columns(topic="type"))
    [t] = history.tickets
    assert (t.month, t.channel, t.ticket.channel, t.topic) == ("2024-05", "phone", "phone", "Account")
    zendesk = [{"id": 2, "subject": "Hi", "description": "Parcel late", "via": {"channel": "api"},
                "created_at": "2024-06-01T00:00:00Z", "tags": ["topic_delivery"]}]
    [z] = read_file(write(tmp_path, "zd.json", json.dumps(zendesk)), "auto", Columns(topic="tag:topic_")).tickets
    assert (z.month, z.channel, z.ticket.channel, z.topic) == ("2024-06", "api", None, "delivery")


@pytest.mark.parametrize(
    ("name", "content", "fmt", "columns", "field", "message"),
    [
        ("p.csv", CSV, "auto", Columns(queue="team"), "--queue-column", "no column 'team'"),
        ("p.csv", CSV, "auto", Columns(text="body"), "--text-column", "no column 'body'"),
        ("p.csv", CSV, "jsonl", Columns(), "--format", "jsonl reads"),
        ("p.csv", CSV, "xml", Columns(), "--format", "must be one of"),
        ("p.csv", "", "auto", Columns(), "DATA", "holds no rows"),
        ("p.csv", "text,x\n,1\n", "auto", Columns(), "DATA", "no ticket"),
        ("p.csv", "text,d\nhello,03/04/2024\n", "auto", Columns(date="d"), "--date-column", "row 1: '03/04/2024'"),
        ("p.txt", "hello", "auto", Columns(), "DATA", "cannot tell the format"),
        ("z.json", "[]", "zendesk", Columns(), "DATA", "no tickets"),
        ("z.json", '[{"description": "x"}]', "zendesk", Columns(text="body"), "--text-column", "exports name"),
    ],
)
def test_bad_input_is_refused_naming_the_option(
    tmp_path: Path, name: str, content: str, fmt: str, columns: Columns, field: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        read_file(write(tmp_path, name, content), fmt, columns)
    assert caught.value.field == field


def test_missing_file_and_channel_names() -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        read_file(Path("/nonexistent/past.csv"), "auto", Columns())
    assert month_of("2024-12-31 23:59:59", "--date-column", "row 1") == "2024-12"
    assert [sift_channel(c) for c in ("Email", "voice", "twitter", "portal", "api", None)] == [
        "email", "phone", "social", "web", None, None,
    ]
