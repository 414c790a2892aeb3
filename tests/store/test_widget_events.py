"""Widget events: stored without anything a visitor typed, and counted into the deflection figures."""

from __future__ import annotations

from sqlalchemy import inspect

from engine.store.db import Location, connect
from engine.store.widget_events import WidgetEvent, WidgetEventStore


def test_deflection_counts_visits_per_language(location: Location) -> None:
    store = WidgetEventStore(location)
    try:
        # Visit a: searched, read, helped. Visit b: searched, read, not helped, contacted. Visit c (de): searched.
        for event in (
            WidgetEvent("search", "visit-aaaa", "hr", results=3),
            WidgetEvent("open", "visit-aaaa", "hr", article_id="account-reset-password-hr"),
            WidgetEvent("helped", "visit-aaaa", "hr", article_id="account-reset-password-hr"),
            WidgetEvent("search", "visit-bbbb", "hr", results=2),
            WidgetEvent("search", "visit-bbbb", "hr", results=1),
            WidgetEvent("open", "visit-bbbb", "hr", article_id="returns-how-to-return-an-item-hr"),
            WidgetEvent("not_helped", "visit-bbbb", "hr", article_id="returns-how-to-return-an-item-hr"),
            WidgetEvent("contact", "visit-bbbb", "hr"),
            WidgetEvent("search", "visit-cccc", "de", results=0, handoff=True),
            WidgetEvent("contact", "visit-dddd", "en"),  # contacted without searching: not a deflection miss
        ):
            store.record(event)
        report = store.deflection()
        assert store.count() == 10
    finally:
        store.close()
    hr = report["languages"]["hr"]
    assert hr == {
        "searches": 3, "article_opens": 2, "helped_yes": 1, "helped_no": 1, "contacts": 1, "visits_searched": 2,
        "contacted_after_search": 1, "deflection_rate": 0.5, "helpful_rate": 0.5,
    }
    assert report["languages"]["de"]["deflection_rate"] == 1.0 and report["languages"]["de"]["helpful_rate"] is None
    assert report["languages"]["en"]["deflection_rate"] is None and report["languages"]["en"]["contacts"] == 1
    assert report["visits_searched"] == 3 and report["contacted_after_search"] == 1
    assert report["deflection_rate"] == round(2 / 3, 4) and report["contacts"] == 2


def test_no_column_can_hold_what_a_visitor_typed(location: Location) -> None:
    WidgetEventStore(location).close()
    database = connect(location)
    try:
        columns = {c["name"] for c in inspect(database.engine).get_columns("widget_events")}
    finally:
        database.close()
    assert columns == {"id", "created_at", "kind", "session", "language", "kb", "article_id", "results", "handoff",
                       "origin"}
