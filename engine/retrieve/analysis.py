"""Language-aware lexical analysis for BM25: one analyser per language, same on both sides.

Snowball stemmers cover most European languages (Croatian and Bosnian use the
Serbian stemmer, which works on Latin script); Chinese and Japanese have no
word spaces, so Han and kana runs become character unigrams and bigrams.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import snowballstemmer

SNOWBALL = {
    "ar": "arabic", "ca": "catalan", "cs": "czech", "da": "danish", "de": "german", "el": "greek",
    "en": "english", "es": "spanish", "fi": "finnish", "fr": "french", "hi": "hindi", "hu": "hungarian",
    "it": "italian", "lt": "lithuanian", "nb": "norwegian", "nl": "dutch", "no": "norwegian", "pl": "polish",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sv": "swedish", "tr": "turkish",
    "hr": "serbian", "bs": "serbian", "sr": "serbian", "id": "indonesian",
}
# \w does not match combining marks, which would cut Devanagari, Arabic or Thai words apart
# at every vowel sign; the classes below keep them inside the word.
_MARKS = "\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f\u0670\u0900-\u0dff\u0e31-\u0e4e"
_WORD = re.compile(rf"[\w{_MARKS}]+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


@cache
def _stop_words(language: str) -> frozenset[str]:
    """spaCy's stop list for the language (no model needed), else none.

    In a multilingual KB, function words of a minority language are rare corpus-wide,
    so BM25 would give them a high IDF and match "el", "de", "mi" across unrelated articles.
    """
    from spacy.util import get_lang_class

    try:
        return frozenset(get_lang_class(language).Defaults.stop_words)
    except ImportError:
        return frozenset()


@cache
def _stemmer(language: str) -> snowballstemmer.Stemmer | None:
    name = SNOWBALL.get(language)
    return snowballstemmer.stemmer(name) if name else None


def _cjk_grams(run: str) -> list[str]:
    return list(run) + [run[i : i + 2] for i in range(len(run) - 1)]


def analyse(text: str, language: str) -> list[str]:
    """Lower-cased, NFKC-normalised, stemmed tokens; CJK runs as character n-grams."""
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    for run in _CJK.findall(text):
        tokens += _cjk_grams(run)
    stop = _stop_words(language)
    words = [w for w in _WORD.findall(_CJK.sub(" ", text)) if w not in stop]
    stemmer = _stemmer(language)
    tokens += stemmer.stemWords(words) if stemmer else words
    return [t for t in tokens if len(t) > 1 or t.isdigit() or _CJK.match(t)]
