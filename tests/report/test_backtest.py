"""The backtest's figures from hand-made outcomes: what is counted where, and which plots a report gets."""

from __future__ import annotations

from engine.report.backtest import Outcome, figures
from engine.report.backtest_plots import plot_ids, plots
from engine.report.history import NO_DATE, UNKNOWN


def made(queue: str = "billing", month: str = "2024-01", topic: str = "billing", **flags: object) -> Outcome:
    values: dict[str, object] = {"automated": False, "judged": False, "wrong": False, "deflected": False,
                                 "risks": (), "reasons": ()}
    values.update(flags)
    return Outcome(queue=queue, channel=UNKNOWN, language="en", month=month, topic=topic, **values)  # type: ignore[arg-type]


def test_shares_rest_on_their_own_counts() -> None:
    outcomes = [
        made(automated=True, judged=True, deflected=True),
        made(automated=True, judged=True, wrong=True),
        made(automated=True),  # automated, but nothing recorded to compare with
        made("orders", "2024-02", "delivery", risks=("fraud",), reasons=("fraud", "no_confident_article")),
        made("orders", NO_DATE, "delivery", reasons=("low_topic_confidence",)),
    ]
    report = figures(outcomes)
    overall = report["overall"]
    assert (overall["tickets"], overall["automated"], overall["judged"], overall["wrong"]) == (5, 3, 2, 1)
    assert overall["automation_share"] == 0.6 and overall["error_rate"] == 0.5  # 1 wrong of the 2 judged
    assert overall["deflection_estimate"] == 0.2 and overall["risk_share"] == 0.2
    assert overall["risk_kinds"] == {"fraud": 1}
    assert [g["key"] for g in report["by"]["month"]] == ["2024-01", "2024-02", NO_DATE]  # undated last
    assert [g["key"] for g in report["by"]["queue"]] == ["billing", "orders"]  # largest first
    orders = report["by"]["queue"][1]
    assert orders["automation_share"] == 0.0 and orders["error_rate"] is None
    assert report["topics_by_month"] == {"months": ["2024-01", "2024-02"], "topics": {"billing": [3, 0], "delivery": [0, 1]}}
    assert report["handoff_reasons"] == {"fraud": 1, "no_confident_article": 1, "low_topic_confidence": 1}
    # channel is all "unknown": no plot says nothing
    assert plot_ids(report) == ["rates-queue", "rates-language", "rates-month", "topics-by-month", "handoff-reasons"]


def test_without_dates_there_is_no_month_breakdown_and_no_trend() -> None:
    report = figures([made(month=NO_DATE), made("orders", NO_DATE)])
    assert report["by"]["month"] == [] and report["topics_by_month"] is None
    assert plot_ids(report) == ["rates-queue", "rates-language"]
    drawn = plots(report)
    assert list(drawn) == plot_ids(report) and all(uri.startswith("data:image/png;base64,") for uri in drawn.values())
