"""One JSON shape for a triage result, shared by the API, `sift triage` and `sift triage-file`."""

from __future__ import annotations

from typing import Any

from engine.types import ArticleHit, Prediction, Span, TriageResult


def _prediction(p: Prediction | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "label": p.label,
        "confidence": p.confidence,
        "alternatives": [{"label": a.label, "probability": a.probability} for a in p.alternatives],
        "model_version": p.model_version,
    }


def _spans(spans: tuple[Span, ...], with_field: bool = False) -> list[dict[str, Any]]:
    return [
        {"label": s.label, "text": s.text, "start": s.start, "end": s.end, "source": s.source}
        | ({"field": s.field} if with_field else {})
        for s in spans
    ]


def article_json(a: ArticleHit) -> dict[str, Any]:
    return {
        "id": a.id,
        "title": a.title,
        "language": a.language,
        "section": a.section,
        "anchor": a.anchor,
        "snippet": a.snippet,
        "score": a.score,
        "similarity": a.similarity,
        "topic": a.topic,
        "product": a.product,
        "sources": list(a.sources),
        "answer_confidence": a.answer_confidence,
        "highlights": [list(h) for h in a.highlights],
        "rerank_score": a.rerank_score,
    }


def answer_confidence(articles: tuple[ArticleHit, ...] | list[ArticleHit]) -> float:
    """The query's answer confidence: the top article's (0 when none was found)."""
    return articles[0].answer_confidence if articles else 0.0


def result_to_json(r: TriageResult) -> dict[str, Any]:
    return {
        "id": r.id,
        "kb": r.kb,
        "language": {
            "code": r.language.code,
            "confidence": r.language.confidence,
            "uncertain": r.language.uncertain,
            "alternatives": [{"code": a.code, "confidence": a.confidence} for a in r.language.alternatives],
        },
        "sentiment": None
        if r.sentiment is None
        else {
            "label": r.sentiment.label,
            "score": r.sentiment.score,
            "confidence": r.sentiment.confidence,
            "trend": r.sentiment.trend,
            "history": list(r.sentiment.history),
        },
        "urgency": _prediction(r.urgency),
        "topic": _prediction(r.topic),
        "entities": _spans(r.entities),
        "pii": _spans(r.pii, with_field=True),
        "articles": [article_json(a) for a in r.articles],
        "answer_confidence": r.answer_confidence,
        "draft": None
        if r.draft is None
        else {
            "text": r.draft.text,
            "language": r.draft.language,
            "citations": list(r.draft.citations),
            "needs_translation": r.draft.needs_translation,
            "tone": r.draft.tone,
        },
        "route": {
            "queue": r.route.queue,
            "language": r.route.language,
            "priority": r.route.priority,
            "skills": list(r.route.skills),
            "reasons": list(r.route.reasons),
        },
        "handoff": {"required": r.handoff.required, "reasons": list(r.handoff.reasons), "details": list(r.handoff.details)},
        "risk": [{"kind": s.kind, "confidence": s.confidence, "evidence": list(s.evidence)} for s in r.risk],
        "failed_stages": list(r.failed_stages),
        "timings_ms": r.timings_ms,
    }
