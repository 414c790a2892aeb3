"""The greeting line, by the rules of the draft's language, its register and the channel.

Letters (e-mail, web form, phone follow-up) are formal when the helpdesk tells us the form of address (or the
name carries one: "Frau Mustermann", "gospođa Horvat") and we know the surname: "Sehr geehrte Frau Dr.
Mustermann,", "Dear Ms Mustermann,", "Estimada Sra. Mustermann:", "Poštovana gospođo Horvat,". Gender is never
guessed from a first name. Without a form of address each catalog greets as its language customarily does when
the gender is unknown: by first name ("Hi Erika,", "Bonjour Claire,"), by full name where a first name alone
would not fit the polite register ("Guten Tag Erika Mustermann,"), or with a neutral formula where the name would
have to be declined ("Dzień dobry,", "Dobrý den,", "Dobar dan,"). The gender-neutral form of address ("mx") has
no gendered salutation, so it gets that neutral form too. No name at all: the catalog's anonymous greeting.
Chat, messaging and social replies are never formal letters: a short greeting by first name or none.

A draft in the familiar register (``informal_address``: du, tu, tú) greets by first name in every channel: a
"Sehr geehrte Frau Mustermann" above a "du" would contradict itself. The rules per language are in
docs/languages.md.
"""

from __future__ import annotations

from typing import Any

from engine.draft.names import PersonName
from engine.types import FormOfAddress

SHORT_CHANNELS = frozenset({"chat", "messaging", "social"})


def is_short(channel: str | None) -> bool:
    """Whether the channel's register is a short message without letter frame (greeting block, sign-off)."""
    return channel in SHORT_CHANNELS


def greeting(
    c: dict[str, Any],
    name: PersonName | None,
    form: FormOfAddress | None,
    channel: str | None,
    informal: bool = False,
) -> str:
    """The greeting line; ``c`` is the catalog in the draft's register, ``informal`` whether that is familiar."""
    rules = c["salutation"]
    if is_short(channel):
        return rules["chat"].format(first=name.first) if name and name.first else rules["chat_anonymous"]
    form = form or (name.form if name else None)
    if not informal and name is not None and name.last and form is not None:
        return rules["formal"][form].format(
            title=f"{name.title} " if name.title else "", last=name.last, full=name.full
        )
    if name is not None and name.first:
        return rules["informal"].format(first=name.first, full=name.full)
    return rules["anonymous"]
