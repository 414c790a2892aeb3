"""Language-aware lexical analysis for BM25: one analyser per language, same on both sides.

Snowball stemmers cover most European languages (Croatian and Bosnian use the
Serbian stemmer, which works on Latin script); Chinese and Japanese have no
word spaces, so Han and kana runs become character unigrams and bigrams.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

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
def stop_words(language: str) -> frozenset[str]:
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


# Snowball's Arabic stemmer strips the article (ال) and بال/كال/لل, but not a conjunction in front of the
# article: والكتاب ("and the book") would stay a term of its own, apart from الكتاب and كتاب.
_AR_CONJUNCTION_ARTICLE = re.compile(r"^[وف](?=ال..)")


@lru_cache(maxsize=1 << 17)
def _stem(language: str, word: str) -> str:
    """Ticket and KB vocabularies repeat, so each stem is remembered (snowballstemmer runs PyStemmer's C code)."""
    stemmer = _stemmer(language)
    if language == "ar":
        word = _AR_CONJUNCTION_ARTICLE.sub("", word)
    return stemmer.stemWord(word) if stemmer else word


def _cjk_grams(run: str) -> list[tuple[int, str]]:
    """Character unigrams and bigrams of a CJK run, each with its offset in the run."""
    return [(i, c) for i, c in enumerate(run)] + [(i, run[i : i + 2]) for i in range(len(run) - 1)]


def _nfkc_char(c: str) -> str:
    """NFKC of one character, kept as is where it would expand (so offsets stay one to one)."""
    n = unicodedata.normalize("NFKC", c)
    return n if len(n) == 1 else c


def _keep(term: str) -> bool:
    return len(term) > 1 or term.isdigit() or bool(_CJK.match(term))


def term_spans(text: str, language: str) -> list[tuple[int, int, str]]:
    """Every analysed term with its ``[start, end)`` offsets in ``text``, in reading order.

    The offsets let a snippet mark the words a query matched; ``analyse`` is built on
    this, so BM25 and highlighting can never disagree about what a term is.
    """
    spans: list[tuple[int, int, str]] = []
    for run in _CJK.finditer(text):
        chars = "".join(_nfkc_char(c) for c in run.group())
        spans += [(run.start() + i, run.start() + i + len(g), g) for i, g in _cjk_grams(chars)]
    stop = stop_words(language)
    # CJK runs are blanked with padding of the same length, so word offsets stay those of ``text``.
    for match in _WORD.finditer(_CJK.sub(lambda m: " " * len(m.group()), text)):
        for word in _WORD.findall(unicodedata.normalize("NFKC", match.group()).lower()):
            if word in stop:
                continue
            term = _stem(language, word)
            if _keep(term):
                spans.append((match.start(), match.end(), term))
    spans.sort(key=lambda s: (s[0], s[1]))
    return spans


def analyse(text: str, language: str) -> list[str]:
    """Lower-cased, NFKC-normalised, stemmed tokens; CJK runs as character n-grams."""
    return [term for _, _, term in term_spans(text, language)]
