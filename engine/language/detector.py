"""An ensemble of two detectors plus priors.

langdetect (seeded, so deterministic) knows 55 languages but confuses close
ones on short texts (Spanish read as Portuguese); py3langid, restricted to the
languages a helpdesk expects, is sharper on short text. Averaging their
distributions and adding a prior from the channel locale beats either alone.
Croatian, Bosnian and Serbian cannot be told apart reliably on short texts:
when they compete we report the winner and flag it uncertain.
"""

from __future__ import annotations

import re
from collections import defaultdict

from langdetect.lang_detect_exception import LangDetectException

from engine.models.registry import ModelRegistry
from engine.types import LanguageResult

CLOSE_GROUPS = ({"hr", "bs", "sr"}, {"da", "no", "nb", "nn", "sv"}, {"cs", "sk"}, {"es", "pt", "gl"})
LOCALE_PRIOR = 0.15
UNCERTAIN_BELOW = 0.6
# langdetect knows some variants under regional codes; fold them onto ISO 639-1.
_ALIASES = {"zh-cn": "zh", "zh-tw": "zh", "no": "nb"}


class LanguageDetector:
    def __init__(self, registry: ModelRegistry, min_chars: int, expected: list[str]) -> None:
        self._registry = registry
        self._min_chars = min_chars
        self._expected = set(expected)

    def warm_up(self) -> None:
        self._registry.langdetect("warm up")
        self._registry.langid.rank("warm up")

    def run(self, texts: list[str], locales: list[str | None]) -> list[LanguageResult]:
        return [self.detect(t, loc) for t, loc in zip(texts, locales, strict=True)]

    def detect(self, text: str, locale: str | None = None) -> LanguageResult:
        letters = re.sub(r"[\W\d_]+", "", text)
        if len(letters) < self._min_chars:
            return LanguageResult(code="und", confidence=0.0, uncertain=True)
        # py3langid is the better judge of short texts, langdetect of long ones.
        langid_weight = 0.6 if len(letters) < 80 else 0.4
        scores: dict[str, float] = defaultdict(float)
        try:
            for guess in self._registry.langdetect(text):
                code = _ALIASES.get(guess.lang, guess.lang)
                # Languages the helpdesk does not expect need stronger evidence.
                damp = 1.0 if code in self._expected else 0.5
                scores[code] += (1 - langid_weight) * guess.prob * damp
        except LangDetectException:
            pass
        for code, prob in self._registry.langid.rank(text)[:5]:
            scores[code] += langid_weight * float(prob)
        if locale:
            prior = locale.replace("_", "-").split("-")[0].lower()
            scores[prior] += LOCALE_PRIOR
        total = sum(scores.values())
        if total <= 0:
            return LanguageResult(code="und", confidence=0.0, uncertain=True)
        ranked = sorted(((code, s / total) for code, s in scores.items()), key=lambda x: -x[1])
        best, confidence = ranked[0]
        runner_up = ranked[1] if len(ranked) > 1 else None
        close_call = runner_up is not None and any(
            {best, runner_up[0]} <= group for group in CLOSE_GROUPS
        ) and runner_up[1] > 0.25
        return LanguageResult(
            code=best,
            confidence=round(confidence, 4),
            uncertain=confidence < UNCERTAIN_BELOW or close_call,
            alternatives=tuple((code, round(p, 4)) for code, p in ranked[1:4]),
        )
