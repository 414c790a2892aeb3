"""Helpdesk exports become the same LabelledTickets as a CSV; malformed exports are refused naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.errors import InvalidInput
from engine.training.importers import read_freshdesk, read_training_data, read_zendesk

ZENDESK_TICKETS = [
    {
        "id": 35436,
        "url": "https://acme.zendesk.com/api/v2/tickets/35436.json",
        "created_at": "2024-03-04T09:12:44Z",
        "type": "incident",
        "subject": "Hub offline every night",
        "description": "My Lumio Hub goes offline around 2am and the automations stop.",
        "priority": "high",
        "status": "open",
        "tags": ["lumio_hub", "topic_technical", "topic_connectivity"],
        "custom_fields": [{"id": 360001, "value": "technical"}, {"id": 360002, "value": None}],
    },
    {
        "id": 35437,
        "type": "question",
        "subject": "Invoice copy",
        "description": "",
        "comments": [
            {"id": 1, "public": True, "body": "Could you send me the invoice for order 7731204 again?"},
            {"id": 2, "public": True, "body": "Sure, attached."},
        ],
        "priority": "normal",
        "tags": ["topic_billing"],
        "custom_fields": [{"id": 360001, "value": "billing"}],
    },
    {
        "id": 35438,
        "type": "problem",
        "subject": "Parcel",
        "description": "<p>Where is my parcel?</p><p>It has been <b>ten</b> days &amp; nothing.</p>",
        "priority": None,
        "tags": [],
        "custom_fields": [],
    },
    {"id": 35439, "type": "task", "subject": "Internal: restock", "description": "   ", "priority": "low", "tags": []},
]

FRESHDESK_CSV = """\ufeffTicket ID,Subject,Description,Status,Priority,Source,Type,Group,Tags,Created time
101,Refund not received,"<div>I returned the bulb three weeks ago,<br>still no refund.</div>",Open,High,Email,Refund,Billing,"topic_billing, vip",2024-03-01 10:00:00
102,Cannot log in,My password reset email never arrives.,Pending,Medium,Portal,Account,Accounts,topic_account,2024-03-02 11:00:00
103,Camera recording,"Der Kamera-Speicher ist voll, obwohl ich Lumio Plus habe.",Open,Urgent,Email,,Technical,,2024-03-03 12:00:00
104,Thanks,,Closed,Low,Email,Other,Billing,,2024-03-04 13:00:00
"""


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


def zendesk_file(tmp_path: Path, shape: str = "object") -> Path:
    if shape == "object":
        return write(tmp_path, "tickets.json", json.dumps({"tickets": ZENDESK_TICKETS, "count": 4}))
    if shape == "array":
        return write(tmp_path, "tickets.json", json.dumps(ZENDESK_TICKETS))
    # Zendesk's own "JSON export": one ticket per line, even in a .json file.
    return write(tmp_path, "export.json", "\n".join(json.dumps(t) for t in ZENDESK_TICKETS) + "\n")


@pytest.mark.parametrize("shape", ["object", "array", "lines"])
def test_zendesk_shapes_give_the_same_tickets(tmp_path: Path, shape: str) -> None:
    data = read_zendesk(zendesk_file(tmp_path, shape), {"topic": "type", "urgency": "priority"})
    assert data.texts == [
        "Hub offline every night\nMy Lumio Hub goes offline around 2am and the automations stop.",
        "Invoice copy\nCould you send me the invoice for order 7731204 again?",
        "Where is my parcel?\nIt has been ten days & nothing.",  # the subject repeats the text
    ]
    assert data.columns == {
        "topic": ["incident", "question", "problem"],
        "urgency": ["high", "normal", None],
    }


def test_zendesk_jsonl_file(tmp_path: Path) -> None:
    path = write(tmp_path, "tickets.jsonl", json.dumps(ZENDESK_TICKETS[0]))
    data = read_zendesk(path, {"topic": "tag:topic_"})
    assert data.columns == {"topic": ["technical"]}


def test_zendesk_topic_from_tag_prefix_and_custom_field(tmp_path: Path) -> None:
    path = zendesk_file(tmp_path)
    by_tag = read_zendesk(path, {"topic": "tag:topic_"})
    assert by_tag.columns["topic"] == ["technical", "billing", None]  # the first matching tag wins
    assert by_tag.labelled("topic")[1] == ["technical", "billing"]
    by_field = read_zendesk(path, {"topic": "custom_field:360001"})
    assert by_field.columns["topic"] == ["technical", "billing", None]


@pytest.mark.parametrize(
    ("content", "field", "message"),
    [
        ("this is not json", "DATA", "not JSON"),
        ('{"tickets": [{"id": 1}]}\n{oops', "DATA", "line 2"),
        ('{"tickets": {"id": 1}}', "tickets", "must be a list"),
        ('{"users": []}', "tickets", "no 'tickets' list"),
        ('[1, 2]', "DATA", "ticket 1 is not a JSON object"),
        ("[]", "DATA", "no tickets"),
        ('[{"id": 1, "subject": "Hi", "description": "", "type": "question"}]', "description", "no text"),
        ('[{"id": 1, "description": "Help", "priority": "high"}]', "type", "fields are"),
        ('[{"id": 1, "description": "Help", "type": null}]', "type", "no labels"),
        ('[{"id": 1, "description": "Help", "type": {"a": 1}}]', "type", "not a label"),
    ],
)
def test_malformed_zendesk_exports_name_the_field(tmp_path: Path, content: str, field: str, message: str) -> None:
    path = write(tmp_path, "bad.json", content)
    with pytest.raises(InvalidInput, match=message) as caught:
        read_zendesk(path, {"topic": "type"})
    assert caught.value.field == field


def test_zendesk_unknown_priority_is_refused(tmp_path: Path) -> None:
    ticket = {"id": 1, "description": "Help", "type": "q", "priority": "critical"}
    path = write(tmp_path, "t.json", json.dumps([ticket]))
    with pytest.raises(InvalidInput, match="'critical'") as caught:
        read_zendesk(path, {"topic": "type", "urgency": "priority"})
    assert caught.value.field == "priority"


@pytest.mark.parametrize(("spec", "message"), [("tag:", "prefix"), ("custom_field:abc", "numeric")])
def test_bad_field_specs_are_refused(tmp_path: Path, spec: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message) as caught:
        read_zendesk(zendesk_file(tmp_path), {"topic": spec})
    assert caught.value.field == spec


def test_freshdesk_csv_export(tmp_path: Path) -> None:
    path = write(tmp_path, "freshdesk.csv", FRESHDESK_CSV)
    data = read_freshdesk(path, {"topic": "Type", "urgency": "Priority"})
    assert data.texts == [
        "Refund not received\nI returned the bulb three weeks ago,\nstill no refund.",
        "Cannot log in\nMy password reset email never arrives.",
        "Camera recording\nDer Kamera-Speicher ist voll, obwohl ich Lumio Plus habe.",
    ]
    assert data.columns == {"topic": ["Refund", "Account", None], "urgency": ["high", "normal", "urgent"]}


def test_freshdesk_group_and_tags_as_topic(tmp_path: Path) -> None:
    path = write(tmp_path, "freshdesk.csv", FRESHDESK_CSV)
    assert read_freshdesk(path, {"topic": "group"}).columns["topic"] == ["Billing", "Accounts", "Technical"]
    assert read_freshdesk(path, {"topic": "tag:topic_"}).columns["topic"] == ["billing", "account", None]


def test_freshdesk_numeric_priorities(tmp_path: Path) -> None:
    path = write(tmp_path, "f.csv", "Subject,Description,Priority,Type\nA,one,1,x\nB,two,4,y\n")
    assert read_freshdesk(path, {"urgency": "Priority"}).columns["urgency"] == ["low", "urgent"]


@pytest.mark.parametrize(
    ("content", "heads", "field", "message"),
    [
        ("", {"topic": "Type"}, "DATA", "no rows"),
        ("Subject,Type\nHello,Refund\n", {"topic": "Type"}, "Description", "no column 'Description'"),
        ("Subject,Description\nHi,Help me\n", {"topic": "Group"}, "Group", "no column 'Group'"),
        ("Subject,Description,Type\nHi,,Refund\n", {"topic": "Type"}, "Description", "no text"),
        ("Subject,Description,Type\nHi,Help,\n", {"topic": "Type"}, "Type", "no labels"),
        ("Description,Priority\nHelp,Critical\n", {"urgency": "Priority"}, "Priority", "row 1: priority 'Critical'"),
        ("Description,Type\nHelp,x\n", {"topic": "custom_field:1"}, "custom_field:1", "name the column"),
    ],
)
def test_malformed_freshdesk_exports_name_the_field(
    tmp_path: Path, content: str, heads: dict[str, str], field: str, message: str
) -> None:
    path = write(tmp_path, "bad.csv", content)
    with pytest.raises(InvalidInput, match=message) as caught:
        read_freshdesk(path, heads)
    assert caught.value.field == field


def test_non_utf8_and_missing_files_are_refused(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Description,Type\ncaf\xe9,x\n".encode("latin-1"))
    with pytest.raises(InvalidInput, match="UTF-8"):
        read_freshdesk(latin, {"topic": "Type"})
    with pytest.raises(InvalidInput, match="does not exist"):
        read_zendesk(tmp_path / "nope.json", {"topic": "type"})


def test_read_training_data_dispatches_and_keys_by_head(tmp_path: Path) -> None:
    plain = write(tmp_path, "plain.csv", "body,category,prio\nHub offline,technical,high\nRefund please,billing,\n")
    data = read_training_data(plain, "auto", {"topic": "category", "urgency": "prio"}, text_column="body")
    assert data.texts == ["Hub offline", "Refund please"]
    assert data.columns == {"topic": ["technical", "billing"], "urgency": ["high", None]}
    zendesk = read_training_data(zendesk_file(tmp_path), "zendesk", {"topic": "type"})
    assert zendesk.columns["topic"] == ["incident", "question", "problem"]
    with pytest.raises(InvalidInput) as caught:
        read_training_data(zendesk_file(tmp_path), "zendesk", {"topic": "type"}, text_column="body")
    assert caught.value.field == "--text-column"
    with pytest.raises(InvalidInput) as caught:
        read_training_data(plain, "helpscout", {"topic": "category"})
    assert caught.value.field == "--format"


# Freshdesk's API export (JSON) and any fields for `sift backtest` ----------------------------------------------------

FRESHDESK_API = {
    "tickets": [
        {
            "id": 201, "subject": "Refund not received", "description": "<div>Still no refund.</div>",
            "description_text": "Still no refund for the bulb I returned.", "source": 1, "priority": 3, "status": 2,
            "type": "Refund", "group_id": 43000001, "tags": ["topic_billing"], "created_at": "2024-03-01T10:00:00Z",
            "custom_fields": {"cf_brand": "lumio"},
        },
        {
            "id": 202, "subject": "Cannot log in", "description_text": "The reset email never arrives.", "source": 7,
            "priority": 1, "status": 3, "type": None, "group_id": 43000002, "tags": [],
            "created_at": "2024-04-02T11:00:00Z",
        },
        {"id": 203, "subject": "Empty", "description_text": "", "source": 2, "priority": 2, "created_at": "2024-04-03"},
    ]
}


def test_freshdesk_api_json_reads_like_the_csv_export(tmp_path: Path) -> None:
    path = write(tmp_path, "freshdesk.json", json.dumps(FRESHDESK_API))
    data = read_freshdesk(path, {"topic": "type", "urgency": "priority"})
    assert data.texts == ["Refund not received\nStill no refund for the bulb I returned.",
                          "Cannot log in\nThe reset email never arrives."]
    assert data.columns == {"topic": ["Refund", None], "urgency": ["high", "low"]}
    assert read_freshdesk(path, {"topic": "tag:topic_"}).columns["topic"] == ["billing", None]


def test_read_export_takes_the_exports_own_dates_and_channels(tmp_path: Path) -> None:
    from engine.report.history import EXPORT_DEFAULTS
    from engine.training.importers import read_export

    fresh = read_export(write(tmp_path, "f.json", json.dumps(FRESHDESK_API)), "freshdesk", {"queue": "group_id"},
                        EXPORT_DEFAULTS["freshdesk"])
    assert fresh.skipped == 1  # the ticket without a description
    assert fresh.fields == {
        "queue": ["43000001", "43000002"],
        "date": ["2024-03-01T10:00:00Z", "2024-04-02T11:00:00Z"],
        "channel": ["email", "chat"],  # the API's source codes, by name
    }
    csv_export = read_export(write(tmp_path, "f.csv", FRESHDESK_CSV), "freshdesk", {}, EXPORT_DEFAULTS["freshdesk"])
    assert csv_export.fields["date"][0] == "2024-03-01 10:00:00" and csv_export.fields["channel"][:2] == ["Email", "Portal"]
    tickets = [dict(ZENDESK_TICKETS[0], via={"channel": "web"}), dict(ZENDESK_TICKETS[1], via={"channel": "voice"})]
    zendesk = read_export(write(tmp_path, "z.json", json.dumps({"tickets": tickets})), "zendesk",
                          {"topic": "tag:topic_"}, EXPORT_DEFAULTS["zendesk"])
    assert zendesk.fields == {"topic": ["technical", "billing"], "date": ["2024-03-04T09:12:44Z", None],
                              "channel": ["web", "voice"]}
    with pytest.raises(InvalidInput, match="no ticket .* has a field 'group_id'") as caught:
        read_export(zendesk_file(tmp_path), "zendesk", {"queue": "group_id"})
    assert caught.value.field == "group_id"
