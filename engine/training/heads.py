"""Fit, save and activate heads from labelled tickets, one head per label column."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from engine.errors import InvalidInput
from engine.kb.articles import load_kb
from engine.language.detector import LanguageDetector
from engine.models.head_views import PROVENANCE_KEY, impute, join, unsupported
from engine.models.heads import FALSE_REJECTION, FALSE_REJECTION_WITH_EXAMPLES, activate
from engine.models.language_means import LanguageMeans
from engine.models.registry import ModelRegistry
from engine.normalise import encoder_text
from engine.route import RoutingPolicy, load_policy
from engine.settings import Settings
from engine.training.data import LabelledTickets
from engine.training.fit import fit_head

FEW_EXAMPLES = 10
MIN_EXAMPLES = 2
"""Cross-validation, which calibrates a head and picks its out-of-scope rule, needs two examples of a class."""
# Only the topic head judges scope; an out-of-scope ticket still has an urgency.
SCOPED_HEAD = "topic"


@dataclass(frozen=True)
class HeadReport:
    name: str
    version: str
    counts: dict[str, int]
    metrics: dict[str, float]
    warnings: list[str]
    centring: LanguageMeans | None = None


def scope_budget(settings: Settings, with_examples: bool) -> float:
    """The share of held-out in-scope tickets the out-of-scope rule may reject: the setting, else the default
    for training data with or without out-of-scope examples."""
    if settings.out_of_scope_false_rejection is not None:
        return settings.out_of_scope_false_rejection
    return FALSE_REJECTION_WITH_EXAMPLES if with_examples else FALSE_REJECTION


def split_out_of_scope(
    data: LabelledTickets, column: str, marker: str
) -> tuple[list[str], list[str], list[str]]:
    """(texts, labels, out-of-scope texts): tickets labelled ``marker`` are examples of no class.

    An empty ``marker`` makes tickets without a label in ``column`` the out-of-scope examples.
    """
    texts, labels, outside = [], [], []
    wanted = marker.strip().casefold()
    for text, label in zip(data.texts, data.columns[column], strict=True):
        if (label or "").strip().casefold() == wanted:
            outside.append(text)
        elif label:
            texts.append(text)
            labels.append(str(label))
    return texts, labels, outside


def train_heads(
    registry: ModelRegistry,
    data: LabelledTickets,
    heads: dict[str, str],
    encode: Callable[[list[str]], object] | None = None,
    unlabelled: Sequence[str] = (),
    encode_second: Callable[[list[str]], object] | None = None,
) -> list[HeadReport]:
    """Train ``heads`` (head name -> label column); each text is encoded once for all heads.

    ``unlabelled``: more of the helpdesk's tickets, without labels, that only estimate each language's mean
    embedding for language centring (``Settings.head_language_centring``). ``encode`` / ``encode_second``: the
    e5 and second-view encoders to use instead of the registry's own (a progress bar's).

    With ``head_second_view`` on, the heads are trained on e5 ⊕ that encoder's rows, as the classify stage
    builds them (engine/models/head_views.py), and record the view in their meta.
    """
    settings = registry.settings
    encoder = registry.encoder
    embed = encode or encoder.encode_queries
    second = registry.heads_second_view
    embed_second = encode_second or (second.encode if second is not None else None)
    centring = settings.head_language_centring

    def raw_rows(texts: Sequence[str]) -> np.ndarray:
        inputs = [encoder_text(t) for t in texts]  # as the service encodes them
        return join(np.asarray(embed(inputs)), None if embed_second is None else np.asarray(embed_second(inputs)))

    every_text = [*data.texts, *unlabelled] if centring else data.texts
    vectors = raw_rows(every_text)
    languages = detect_languages(registry, every_text) if centring or second is not None else []
    means = None
    if centring:
        means = LanguageMeans.fit(vectors, languages)
        vectors = means.centre(vectors, languages)
    vectors, languages = vectors[: len(data.texts)], languages[: len(data.texts)]
    index = {text: i for i, text in enumerate(data.texts)}
    reports = []
    for name, column in heads.items():
        if name == SCOPED_HEAD:
            texts, labels, outside = split_out_of_scope(data, column, settings.out_of_scope_label)
        else:
            (texts, labels), outside = data.labelled(column), []
        counts = dict(sorted(Counter(labels).items()))
        rare = [label for label, n in counts.items() if n < MIN_EXAMPLES]
        warnings = [
            f"class {label!r} has only {n} example{'s' if n > 1 else ''}; "
            + (
                f"left out of the head (it needs at least {MIN_EXAMPLES}): its tickets get another {name} or "
                "none until more are labelled"
                if label in rare
                else "predictions for it will be unreliable"
            )
            for label, n in counts.items()
            if n < FEW_EXAMPLES
        ]
        if rare:
            kept = [i for i, label in enumerate(labels) if label not in rare]
            texts, labels = [texts[i] for i in kept], [labels[i] for i in kept]
            counts = {label: n for label, n in counts.items() if label not in rare}
        warnings += unrouted(name, sorted(counts), load_policy(settings.routing_file))
        if 0 < len(outside) < FEW_EXAMPLES:
            warnings.append(
                f"only {len(outside)} out-of-scope examples; the out-of-scope rule learns little from them"
            )
        rows = vectors[[index[t] for t in texts]]
        outside_rows = vectors[[index[t] for t in outside]] if outside else None
        titles = kb_questions(registry, raw_rows, means) if name == SCOPED_HEAD else None
        if second is not None:
            # Languages the second encoder does not know get their USE half as the classify stage gives it: from
            # the nearest training rows in languages it knows.
            first_dim = encoder.dim
            row_languages = [languages[index[t]] for t in texts]
            rows = impute(rows, row_languages, first_dim, rows[~unsupported(row_languages)])
            if outside_rows is not None:
                outside_rows = impute(outside_rows, [languages[index[t]] for t in outside], first_dim, rows)
            if titles is not None:
                titles = (impute(titles[0], titles[1], first_dim, rows), titles[1])
        head = fit_head(
            name,
            rows,
            labels,
            texts,
            encoder.id,
            kind=settings.head_kind,
            c=settings.head_c,
            out_of_scope=outside_rows,
            out_of_scope_texts=outside,
            false_rejection=scope_budget(settings, with_examples=bool(outside)),
            in_scope=titles[0] if titles is not None else None,
        )
        head.language_means = means
        head.meta = replace(head.meta, provenance={**head.meta.provenance, PROVENANCE_KEY: settings.head_second_view})
        head.save(settings.heads_dir / name / head.meta.version)
        activate(settings.heads_dir, name, head.meta.version)
        if outside:
            counts[settings.out_of_scope_label or "(no topic): out of scope"] = len(outside)
        reports.append(HeadReport(name, head.meta.version, counts, head.meta.metrics, warnings, means))
    registry.reload_heads()
    return reports


def kb_questions(
    registry: ModelRegistry, raw_rows: Callable[[Sequence[str]], np.ndarray], means: LanguageMeans | None
) -> tuple[np.ndarray, list[str]] | None:
    """The public article titles of every configured KB, as the heads read tickets, and each one's language: in
    scope by definition.

    A helpdesk's tickets are long, each one customer's case; a short question in the KB's own words ("I forgot
    my password, how can I reset it?") is far from all of them and, when the helpdesk lists short questions as
    out of scope ("Outlook keeps asking for my password"), nearer those. Trained on the demo tickets, the scope
    rule rejected 12 of the shipped KB's 42 public titles and that password question in German, Spanish and
    Croatian, while the widget's article search found the right article for each; with the titles beside the
    tickets it rejected none of them and kept rejecting questions about other products ("...the payment method
    on my AWS account"). Titles are short questions or statements of a problem, the form those queries take;
    an article's body is not, and would pull everything it mentions into scope.
    """
    titles: list[str] = []
    languages: list[str] = []
    detector = LanguageDetector.from_settings(registry, registry.settings)
    for kb in registry.settings.kbs().values():
        try:
            articles = load_kb(kb.kb_dir, lambda text: detector.detect(text).code)
        except InvalidInput:  # no KB there (yet): the index build reports it; the head is trained without it
            continue
        for article in articles:
            if article.audience == "public" and article.title.strip():
                titles.append(article.title)
                languages.append(article.language)
    if not titles:
        return None
    vectors = raw_rows(titles)
    # Centred by the article's own language: its language is known, not detected.
    return (means.centre(vectors, languages) if means is not None else vectors), languages


def detect_languages(registry: ModelRegistry, texts: Sequence[str]) -> list[str]:
    """The language the service would detect for each text (centring must group texts as triage will)."""
    detector = LanguageDetector.from_settings(registry, registry.settings)
    return [detector.detect(text).code for text in texts]


def unrouted(head: str, labels: list[str], policy: RoutingPolicy) -> list[str]:
    """What the routing policy cannot do with these labels: a topic without a queue silently lands in the default
    queue, and an urgency the head never predicts leaves its queue reachable only by a risk."""
    if head == SCOPED_HEAD:
        missing = [label for label in labels if label not in policy.queues]
        return (
            [f"topics without a queue in the routing policy go to {policy.default_queue!r}: {_listed(missing)}"]
            if missing
            else []
        )
    warnings = []
    if unknown := [label for label in labels if label not in policy.priorities]:
        warnings.append(f"urgencies without a priority in the routing policy get normal's: {_listed(unknown)}")
    if unreachable := sorted(set(policy.urgency_queues) - set(labels)):
        queues = ", ".join(f"{u} -> {policy.urgency_queues[u]}" for u in unreachable)
        warnings.append(f"the urgency head never predicts {unreachable}: the queues {queues} are reached only by a risk")
    return warnings


def _listed(labels: list[str], shown: int = 8) -> str:
    """A list a terminal can show: the first few labels and how many more (an export may have hundreds)."""
    more = f" and {len(labels) - shown} more" if len(labels) > shown else ""
    return ", ".join(map(repr, labels[:shown])) + more
