"""`sift eval`'s figures worked out by hand, its HTML self-contained, its bad input refused naming the option."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bench.eval_report import synthetic
from engine.cli import app
from engine.errors import InvalidInput
from engine.report.evaluation import (
    LabelledSet,
    build_report,
    headlines,
    read_labelled_set,
    read_report,
    render_html,
    write,
)
from engine.report.figures import NONE, Gold, classification, figures, retrieval, risk_coverage
from engine.report.metrics import expected_calibration_error, ranking, reliability
from engine.types import ArticleHit, Handoff, LanguageResult, Prediction, Route, TriageResult

CITATIONS = ("https://arxiv.org/abs/1706.04599", "https://arxiv.org/abs/1705.08500")
PLOTS = ("confusion-topic", "reliability-topic", "risk-coverage", "confusion-urgency", "reliability-urgency", "retrieval")
SECTIONS = ("summary", "topic", "urgency", "language", "sentiment", "retrieval", "latency")


def result(
    topic: str | None, confidence: float, *, language: str = "en", articles: tuple[str, ...] = (), handoff: bool = False
) -> TriageResult:
    hits = tuple(
        ArticleHit(id=a, title=a, language=language, section="", anchor="", snippet="", body="", score=0.5,
                   similarity=0.5)
        for a in articles
    )
    return TriageResult(
        id="t", kb="default", language=LanguageResult(language, 0.9), sentiment=None, urgency=None,
        topic=Prediction(topic, confidence, model_version="topic-v1"), entities=(), pii=(), articles=hits,
        answer_confidence=0.0, draft=None, route=Route("general", language, "normal"), handoff=Handoff(handoff),
        timings_ms={"encode": 30.0, "classify": 6.0},
    )


def test_per_class_scores_and_confusion_count_a_declined_ticket_wrong() -> None:
    preds = [Prediction("a", 0.9), Prediction("b", 0.6), Prediction("b", 0.8), Prediction(None, 0.3)]
    fig = classification(["a", "a", "b", "b"], preds)
    assert fig["accuracy"] == 0.5
    per = {c["label"]: c for c in fig["per_class"]}
    assert (per["a"]["precision"], per["a"]["recall"]) == (1.0, 0.5)
    assert (per["b"]["precision"], per["b"]["recall"], per["b"]["support"]) == (0.5, 0.5, 2)
    assert fig["confusion"] == {"truth": ["a", "b"], "predicted": ["a", "b", NONE], "matrix": [[1, 1, 0], [0, 1, 1]]}
    # The same tickets with the head's None read as the set's out-of-scope label: the last one is right.
    oos = classification(["a", "a", "b", "out_of_scope"], preds, declined="out_of_scope")
    assert oos["accuracy"] == 0.75 and oos["confusion"]["matrix"][2] == [0, 0, 1]


def test_reliability_and_ece_by_hand() -> None:
    confidence, correct = [0.95, 0.95, 0.55, 0.55], [True, False, True, True]
    bins = reliability(confidence, correct, bins=10)
    assert [(b.count, b.accuracy) for b in bins] == [(2, 1.0), (2, 0.5)]
    # half the tickets 0.45 under-confident, half 0.45 over-confident
    assert expected_calibration_error(confidence, correct, bins=10) == pytest.approx(0.45)
    assert expected_calibration_error([], []) == 0.0


def test_risk_coverage_sorts_by_confidence_and_marks_the_policy() -> None:
    rc = risk_coverage([0.9, 0.8, 0.7, 0.6], [True, False, True, False], [True, True, False, False])
    assert rc["curve"] == [[0.25, 0.0], [0.5, 0.5], [0.75, 0.3333], [1.0, 0.5]]
    assert rc["operating_point"] == {"coverage": 0.5, "risk": 0.5, "automated": 2}
    assert rc["area"] == pytest.approx((0 + 0.5 + 1 / 3 + 0.5) / 4, abs=1e-4)


def test_ranking_and_retrieval_per_language() -> None:
    assert ranking([["x", "g"], ["g"], ["y"]], ["g", "g", "g"]) == {"recall@1": 0.3333, "recall@5": 0.6667,
                                                                     "mrr@10": 0.5}
    results = [result("a", 0.9, language="de", articles=("x", "g")), result("a", 0.9, articles=("g",))]
    fig = retrieval(["g", "g"], results)
    assert fig["per_language"]["de"]["mrr@10"] == 0.5 and fig["per_language"]["en"]["recall@1"] == 1.0


def test_figures_leave_out_what_the_set_does_not_label() -> None:
    gold = [Gold(topic="a"), Gold(topic="b", language="de-AT")]
    results = [result("a", 0.9, handoff=True), result("b", 0.7, language="de")]
    fig = figures(gold, results, [10.0, 30.0], [2, 2])
    assert set(fig) == {"tickets", "models", "automated", "topic", "language", "latency"}
    assert fig["language"]["accuracy"] == 1.0  # de-AT is de
    assert fig["models"]["topic"] == "topic-v1" and fig["automated"] == 0.5
    assert fig["latency"]["stages_mean_ms"] == {"encode": 15.0, "classify": 3.0}  # a batch of 2 shares its time
    with pytest.raises(ValueError):
        figures(gold, results[:1], [10.0], [1])


def test_labels_are_masked_in_the_report() -> None:
    gold = [Gold(topic="ana.kovac@example.com"), Gold(topic="billing")]
    results = [result("ana.kovac@example.com", 0.9), result("billing", 0.9)]
    report = build_report(LabelledSet(["", ""], gold), results, [1.0, 1.0], [2, 2], "set.csv", 4)
    text = json.dumps(report)
    assert "ana.kovac" not in text and "[EMAIL]" in text


def test_comparison_marks_improvements_and_regressions() -> None:
    this = {"topic": {"accuracy": 0.9, "ece": 0.05}, "latency": {"p50_ms": 20.0}}
    other = {"topic": {"accuracy": 0.8, "ece": 0.03}, "latency": {"p50_ms": 20.0}}
    rows = {r["name"]: r for r in headlines(this, other)}
    assert rows["topic accuracy"]["verdict"] == "better" and rows["topic accuracy"]["delta"] == 0.1
    assert rows["topic ECE"]["verdict"] == "worse"  # lower is better
    assert rows["latency p50 (ms)"]["verdict"] == "same"
    assert "urgency accuracy" not in rows


@pytest.fixture(scope="module")
def report() -> dict:
    labelled, results = synthetic(400)
    return build_report(labelled, results, [5.0] * 400, [64] * 400, "synthetic.csv", 4, "e5-small")


def test_html_is_self_contained_with_every_plot_and_section(report: dict, tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    write(report, path)
    html = path.read_text(encoding="utf-8")
    for attr, url in re.findall(r"""\b(src|href)\s*=\s*["']?([^"'\s>]+)""", html, flags=re.IGNORECASE):
        assert url.startswith("data:image/png;base64,") if attr.lower() == "src" else url in CITATIONS, url
    assert "<script" not in html.lower() and "<link" not in html.lower() and "@import" not in html
    for plot in PLOTS:
        assert re.search(rf'<figure id="plot-{plot}"><img src="data:image/png;base64,[A-Za-z0-9+/=]{{1000,}}"', html)
    for section in SECTIONS:
        assert f'<section id="section-{section}">' in html


def test_compared_html_shows_both_runs_and_highlights_changes(report: dict, tmp_path: Path) -> None:
    other = json.loads(json.dumps(report))
    other["topic"]["accuracy"] -= 0.05
    other["topic"]["per_class"][0]["f1"] += 0.1
    html = render_html(report, other)
    assert "compared run" in html
    assert re.search(r'<td class="n better">\+0\.050</td>', html)
    assert re.search(r'<td class="n worse">-0\.100</td>', html)


def test_json_report_round_trips_into_compare(report: dict, tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    write(report, path, other=report)
    again = read_report(path)
    assert again["topic"] == report["topic"]
    assert all(row["verdict"] == "same" for row in again["compared_with"]["headlines"])
    (tmp_path / "bad.json").write_text('{"tickets": 3}')
    with pytest.raises(InvalidInput, match="--compare"):
        read_report(tmp_path / "bad.json")


def test_gold_columns_are_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "set.csv"
    path.write_text("text,topic,mood,lang\nWhere is my parcel?,delivery,negative,en\nHello,other,,de\n")
    data = read_labelled_set(path, "auto", {"topic": "topic", "sentiment": "mood", "language": "lang"}, None, None)
    assert data.gold == [Gold("delivery", None, "en", "negative"), Gold("other", None, "de", None)]
    path.write_text("text,topic,mood\nWhere is my parcel?,delivery,angry\n")
    with pytest.raises(InvalidInput, match="mood: 1 values are not negative, neutral or positive"):
        read_labelled_set(path, "auto", {"topic": "topic", "sentiment": "mood"}, None, None)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--topic-column", "topic", "--out", "r.txt"], "--out"),
        (["--topic-column", "queue", "--out", "r.html"], "queue"),
        (["--topic-column", "topic", "--text-column", "body", "--out", "r.html"], "body"),
        (["--topic-column", "topic", "--compare", "missing.json", "--out", "r.html"], "--compare"),
    ],
)
def test_bad_input_exits_2_naming_the_option_or_column(args: list[str], named: str, tmp_path: Path) -> None:
    data = tmp_path / "set.csv"
    data.write_text("text,topic\nWhere is my parcel?,delivery\n")
    paths = [str(tmp_path / a) if a.endswith((".txt", ".html", ".json")) else a for a in args]
    result = CliRunner().invoke(app, ["eval", str(data), *paths])
    assert result.exit_code == 2, result.output
    assert named in result.output
