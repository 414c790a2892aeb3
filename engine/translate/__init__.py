"""Stage seam for machine translation (drafts in the customer's language).

No translation model installs offline yet (argostranslate's language packs
come from an online index), so "no pair installed" is a normal state: the
draft is then marked as needing translation instead of being guessed.
"""

from engine.translate.base import NoTranslator, Translator, get_translator

__all__ = ["NoTranslator", "Translator", "get_translator"]
