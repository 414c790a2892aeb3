"""Stage 2: which language the customer wrote in, and how sure we are."""

from engine.language.detector import LanguageDetector

__all__ = ["LanguageDetector"]
