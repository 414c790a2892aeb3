"""Named entities: spaCy's trained pipeline where one ships, spaCy rules everywhere.

Rules run first (an EntityRuler placed before the statistical NER), so a
product or order number is never relabelled as an ORG or CARDINAL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from engine.models.registry import ModelRegistry
from engine.privacy.pii import find_pii
from engine.stage import TicketState
from engine.types import Span

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

PIPE_BATCH = 64
KEPT_MODEL_LABELS = {"PERSON", "PER", "ORG", "GPE", "LOC", "DATE", "MONEY", "PRODUCT"}
RULE_ONLY_LABELS = {"ORDER_NUMBER", "POSTCODE", "PRODUCT"}  # labels the statistical NER never produces
CURRENCY_WORDS = ["€", "$", "£", "eur", "euro", "euros", "eura", "usd", "gbp", "chf", "kn", "dollars", "pounds"]
_NUMERIC_DATE = r"^(?:\d{1,2}[./]\d{1,2}[./]\d{2,4}\.?|\d{4}-\d{2}-\d{2})$"
_ORDER_NO = r"^#?(?:[A-Za-z]{2,4}-)?\d{5,10}$"
HONORIFICS = [
    "mr", "mr.", "mrs", "mrs.", "ms", "ms.", "dr", "dr.", "herr", "frau", "señor", "señora", "sr.", "sra.",
    "gospodin", "gospođa", "g.", "gđa", "monsieur", "madame", "m.", "mme",
]
COMPANY_SUFFIXES = ["gmbh", "ag", "ltd", "ltd.", "inc", "inc.", "llc", "d.o.o.", "d.d.", "s.l.", "s.a.", "sarl", "plc", "kg"]


def rule_patterns(product_names: list[str]) -> list[dict[str, Any]]:
    patterns: list[dict[str, Any]] = [
        {"label": "PRODUCT", "pattern": [{"LOWER": part.lower()} for part in name.split()]}
        for name in product_names
    ]
    patterns += [
        # A number of four or five digits before a place name is a postcode ("10115 Berlin"), not an order: the
        # longer match wins over the bare number below.
        {"label": "POSTCODE", "pattern": [{"TEXT": {"REGEX": r"^\d{4,5}$"}}, {"IS_TITLE": True, "IS_ALPHA": True}]},
        {"label": "ORDER_NUMBER", "pattern": [{"TEXT": "#"}, {"TEXT": {"REGEX": _ORDER_NO}}]},
        {"label": "ORDER_NUMBER", "pattern": [{"TEXT": {"REGEX": _ORDER_NO}}]},
        {"label": "MONEY", "pattern": [{"LOWER": {"IN": CURRENCY_WORDS}}, {"LIKE_NUM": True}]},
        {"label": "MONEY", "pattern": [{"LIKE_NUM": True}, {"LOWER": {"IN": CURRENCY_WORDS}}]},
        {"label": "MONEY", "pattern": [{"TEXT": {"REGEX": r"^[€$£]\d+(?:[.,]\d{1,2})?$"}}]},
        {"label": "MONEY", "pattern": [{"TEXT": {"REGEX": r"^\d+(?:[.,]\d{1,2})?[€$£]$"}}]},
        {"label": "DATE", "pattern": [{"TEXT": {"REGEX": _NUMERIC_DATE}}]},
        {"label": "PERSON", "pattern": [{"LOWER": {"IN": HONORIFICS}}, {"IS_TITLE": True}, {"IS_TITLE": True, "OP": "?"}]},
        {"label": "ORG", "pattern": [{"IS_TITLE": True, "OP": "+"}, {"LOWER": {"IN": COMPANY_SUFFIXES}}]},
    ]
    return patterns


class EntityExtractor:
    name = "entities"
    needs: tuple[str, ...] = ()
    required = False

    def __init__(self, registry: ModelRegistry, product_names: list[str]) -> None:
        self._registry = registry
        self._product_names = product_names
        self._pipelines: dict[str, Language] = {}

    def warm_up(self) -> None:
        """Build and run every configured language's pipeline now, not on its first ticket.

        A blank pipeline is cheap to run but not to build: its tokenizer exceptions and the entity
        rules take 50 ms (most languages) to seconds (French) to compile.
        """
        for language in {"en", "xx", *self._registry.settings.languages}:
            self._pipeline(language)("Warm-up order 12345")

    def _pipeline(self, language: str) -> Language:
        if language not in self._pipelines:
            nlp = self._registry.spacy(language)
            if "entity_ruler" not in nlp.pipe_names:
                where = {"before": "ner"} if "ner" in nlp.pipe_names else {}
                ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"}, **where)
                ruler.add_patterns(rule_patterns(self._product_names))  # type: ignore[attr-defined]
            self._pipelines[language] = nlp
        return self._pipelines[language]

    def run(self, batch: Sequence[TicketState]) -> None:
        found = self.extract([s.text for s in batch], [s.language.code for s in batch])
        for state, entities in zip(batch, found, strict=True):
            state.entities = entities

    def extract(self, texts: list[str], languages: list[str]) -> list[tuple[Span, ...]]:
        """The entities of each text; PII spans (the PII stage reports them) are never reported as entities too.

        Texts go through spaCy's ``pipe`` one language at a time: batched, NER is about twice as fast.
        """
        by_language: dict[str, list[int]] = {}
        for i, language in enumerate(languages):
            by_language.setdefault(language if language != "und" else "xx", []).append(i)
        out: list[tuple[Span, ...]] = [()] * len(texts)
        for language, rows in by_language.items():
            nlp = self._pipeline(language)
            statistical = "ner" in nlp.pipe_names
            for i, doc in zip(rows, nlp.pipe([texts[i] for i in rows], batch_size=PIPE_BATCH), strict=True):
                out[i] = tuple(self._entities(doc, find_pii(texts[i]), statistical))
        return out

    @staticmethod
    def _entities(doc: Doc, pii: list[Span], statistical: bool) -> list[Span]:
        entities = []
        for ent in doc.ents:
            if ent.label_ not in KEPT_MODEL_LABELS | RULE_ONLY_LABELS:
                continue
            if any(ent.start_char < p.end and p.start < ent.end_char for p in pii):
                continue
            label = "PERSON" if ent.label_ == "PER" else ent.label_
            source = "model" if statistical and label not in RULE_ONLY_LABELS else "rules"
            # A postcode is matched with the place after it; the entity is the code.
            end = ent[0].idx + len(ent[0].text) if label == "POSTCODE" else ent.end_char
            entities.append(Span(label, doc.text[ent.start_char : end], ent.start_char, end, source))
        return entities
