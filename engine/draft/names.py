"""A customer's name as helpdesks send it, split into what a salutation needs.

Helpdesks send "Erika Mustermann", "Mustermann, Erika", "Dr. Erika Mustermann", "Frau Mustermann" or just
"Erika". A greeting by the full name ("Hi Erika Mustermann") reads as a mail merge, so the draft needs the first
name for an informal greeting, and the surname, an academic title and a form of address for a formal one.

Rules: "Last, First" is turned round; leading academic titles (Dr., Prof., ...) are kept as the title;
leading forms of address (Mr, Frau, Sra., Mme, gospođa, ...) are dropped and give the form of address when the
ticket states none. Of two or more remaining words the first is the first name and the rest the surname
("Ana García López"). A single word is a surname when a form of address is known ("Frau Mustermann") and a
first name otherwise ("Erika"). A "name" holding digits or an "@" (an e-mail address, a ticket number) is no
name: the draft greets without one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.types import FormOfAddress

ACADEMIC_TITLES = {"dr": "Dr.", "prof": "Prof.", "dipl.-ing": "Dipl.-Ing.", "mag": "Mag.", "ing": "Ing."}
FORMS_OF_ADDRESS: dict[str, FormOfAddress] = {
    "ms": "ms", "mrs": "ms", "miss": "ms", "frau": "ms", "sra": "ms", "srta": "ms", "señora": "ms",
    "mme": "ms", "madame": "ms", "mlle": "ms", "gđa": "ms", "gospođa": "ms",
    "mr": "mr", "herr": "mr", "sr": "mr", "señor": "mr", "m": "mr", "monsieur": "mr", "g": "mr", "gosp": "mr",
    "gospodin": "mr",
    "mx": "mx",
}  # fmt: skip
NOT_A_NAME = re.compile(r"[\d@]")


@dataclass(frozen=True)
class PersonName:
    first: str | None
    last: str | None
    title: str | None = None
    """An academic title as written in a salutation ("Dr."), or None."""
    form: FormOfAddress | None = None
    """The form of address the name itself carried ("Frau ..."), or None."""

    @property
    def full(self) -> str:
        return " ".join(p for p in (self.first, self.last) if p)


def _word_key(word: str) -> str:
    return word.lower().rstrip(".")


def parse_name(raw: str | None) -> PersonName | None:
    """The parts of a customer's name, or None when there is no usable name."""
    name = " ".join((raw or "").split())
    if not name or NOT_A_NAME.search(name):
        return None
    if name.count(",") == 1:
        last, first = (p.strip() for p in name.split(","))
        name = f"{first} {last}".strip()
    words = name.split()
    titles: list[str] = []
    form: FormOfAddress | None = None
    while words and (_word_key(words[0]) in ACADEMIC_TITLES or _word_key(words[0]) in FORMS_OF_ADDRESS):
        key = _word_key(words.pop(0))
        if key in ACADEMIC_TITLES:
            titles.append(ACADEMIC_TITLES[key])
        else:
            form = FORMS_OF_ADDRESS[key]
    title = " ".join(titles) or None
    if not words:
        return None
    if len(words) == 1:
        single = words[0]
        return PersonName(None, single, title, form) if form else PersonName(single, None, title, form)
    return PersonName(words[0], " ".join(words[1:]), title, form)
