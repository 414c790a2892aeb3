"""Word-list valence: what a sentiment lexicon says about a text, as two numbers a fusion model can weigh.

A lexicon knows words, not contexts, so it is never the label on its own: its positive and negative mass are
features beside the head's probabilities (``eval/sentiment_lexicons.py`` measures each lexicon and the fusion).
A negator ("not", "kein", "pas", "non", "não") flips the valence of the next ``NEGATION_SCOPE`` words, the rule
VADER and natural's analyser use.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from engine.settings import PACKAGE_DIR

NEGATION_SCOPE = 3
LEXICON_DIR = PACKAGE_DIR / "assets" / "sentiment-lexicons"
FUSION_FILE = "fusion.json"
_WORD = re.compile(r"[^\W\d_]+")
# Negators per language. Written for Sift (natural ships lists for some languages only, and none for fr or it);
# French "ne ... pas" is caught by "ne"/"n", which precede the verb.
NEGATIONS: dict[str, frozenset[str]] = {
    "en": frozenset({"not", "no", "never", "neither", "nor", "nothing", "cannot", "t"}),  # "don't": "don", "t"
    "de": frozenset(
        {"nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "nichts", "weder"}
    ),
    "fr": frozenset({"ne", "n", "pas", "jamais", "aucun", "aucune", "rien", "ni", "sans"}),
    "it": frozenset({"non", "mai", "nessuno", "nessuna", "niente", "nulla", "né", "senza"}),
    "es": frozenset({"no", "nunca", "jamás", "ningún", "ninguno", "ninguna", "nada", "ni", "sin"}),
    "pt": frozenset({"não", "nao", "nunca", "jamais", "nenhum", "nenhuma", "nada", "nem", "sem"}),
    "nl": frozenset({"niet", "geen", "nooit", "niets", "noch", "zonder"}),
}


def fold(word: str) -> str:
    """The word without accents: LeIA's Portuguese list is written so ("nao", "pessimo")."""
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@dataclass(frozen=True)
class Lexicon:
    """One language's word valences in [-1, 1] (lower-cased; accent-folded when ``folded``)."""

    language: str
    name: str
    valence: Mapping[str, float]
    folded: bool = False

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        """A lexicon file as ``eval/sentiment_lexicons.py --ship`` writes it: language, name, folded, valence."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data["language"], data["name"], data["valence"], bool(data.get("folded", False)))

    def tokens(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        return [fold(w) for w in words] if self.folded else words

    def masses(self, text: str) -> tuple[float, float]:
        """(positive mass, negative mass), each log(1 + sum of |valence|): a second strong word adds less."""
        negations = NEGATIONS.get(self.language, frozenset())
        if self.folded:
            negations = frozenset(fold(w) for w in negations)
        positive = negative = 0.0
        negated = 0
        for word in self.tokens(text):
            if word in negations:
                negated = NEGATION_SCOPE
                continue
            value = self.valence.get(word, 0.0)
            if negated:
                value, negated = -value, negated - 1
            if value > 0:
                positive += value
            else:
                negative -= value
        return math.log1p(positive), math.log1p(negative)


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class LexiconFusion:
    """The head's probabilities nudged by a lexicon: logit(c) = log P_head(c) + gated masses · weights[:, c].

    The masses are gated by 1 - P_head(neutral): where the head is sure a text is neutral (a calm request that
    names a lost card or a declined payment), the lexicon's negative words barely move it. Without the gate the
    fusion read 13% of BANKING77's requests as negative instead of 8%; a free stacker over [log P, masses],
    16% (eval/results/sentiment_lexicons.json). No intercept and no weight on the head's own log-probabilities:
    a text in which the lexicon finds no word keeps exactly the head's probabilities, as does every language
    without a lexicon.
    """

    labels: tuple[str, ...]
    weights: np.ndarray
    """(2, classes): the positive and the negative mass's weight on each class's logit."""
    head_languages: frozenset[str] = frozenset()
    """The languages the head was trained on: there the head alone is as good or better (same file)."""
    gated: bool = True
    """False only in eval/sentiment_lexicons.py, which measures what the gate is for."""

    def applies_to(self, language: str) -> bool:
        return language not in self.head_languages

    def features(self, probs: np.ndarray, masses: np.ndarray) -> np.ndarray:
        return masses * (1.0 - probs[:, [self.labels.index("neutral")]]) if self.gated else masses

    def apply(self, probs: np.ndarray, masses: np.ndarray) -> np.ndarray:
        return softmax(np.log(np.clip(probs, 1e-6, 1.0)) + self.features(probs, masses) @ self.weights)

    @classmethod
    def fit(
        cls,
        probs: np.ndarray,
        masses: np.ndarray,
        truth: Sequence[str],
        labels: tuple[str, ...],
        head_languages: frozenset[str] = frozenset(),
        gated: bool = True,
        l2: float = 1e-3,
    ) -> LexiconFusion:
        """Weights that minimise the log-loss (+ ``l2`` times their squared sum) of the nudged probabilities."""
        onehot = np.eye(len(labels))[[labels.index(t) for t in truth]]
        base = np.log(np.clip(probs, 1e-6, 1.0))
        gated_masses = cls(labels, np.zeros((masses.shape[1], len(labels))), gated=gated).features(probs, masses)
        shape = (masses.shape[1], len(labels))

        def loss(flat: np.ndarray) -> tuple[float, np.ndarray]:
            weights = flat.reshape(shape)
            p = softmax(base + gated_masses @ weights)
            nll = -float(np.mean(np.sum(onehot * np.log(np.clip(p, 1e-12, 1.0)), axis=1)))
            grad = gated_masses.T @ (p - onehot) / len(p) + 2 * l2 * weights
            return nll + l2 * float(np.sum(weights**2)), grad.ravel()

        found = minimize(loss, np.zeros(shape).ravel(), jac=True, method="L-BFGS-B")
        return cls(labels, found.x.reshape(shape), head_languages, gated)

    def save(self, path: Path, provenance: Mapping[str, object]) -> None:
        data = {
            "labels": list(self.labels),
            "weights": np.round(self.weights, 6).tolist(),
            "head_languages": sorted(self.head_languages),
            **provenance,
        }
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LexiconFusion:
        data = json.loads(path.read_text(encoding="utf-8"))
        weights = np.asarray(data["weights"], dtype=np.float64)
        return cls(tuple(data["labels"]), weights, frozenset(data.get("head_languages", ())))


def load_lexicons(folder: Path) -> dict[str, Lexicon]:
    """Every ``<language>.json`` in ``folder`` by language; none when the folder is missing."""
    return {path.stem: Lexicon.load(path) for path in sorted(folder.glob("*.json"))} if folder.is_dir() else {}
