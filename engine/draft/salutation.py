"""The greeting line, by the rules of the draft's language and the register of the channel.

Letters (e-mail, web form, phone follow-up) are formal when the helpdesk tells us the form of address and we know
the surname: "Sehr geehrte Frau Dr. Mustermann,", "Dear Ms Mustermann,", "Estimada Sra. Mustermann:". The
gender-neutral form of address ("mx") has no gendered salutation in these languages, so it falls back to the
full name ("Guten Tag Erika Mustermann,"). Otherwise the greeting uses the first name alone, as helpdesks in
every catalog language customarily do ("Hallo Erika,", "Hi Erika,"), and no name at all when none is known.
Chat, messaging and social replies are never formal letters: a short greeting by first name or none.
"""

from __future__ import annotations

from typing import Any

from engine.draft.names import PersonName
from engine.types import FormOfAddress

SHORT_CHANNELS = frozenset({"chat", "messaging", "social"})


def is_short(channel: str | None) -> bool:
    """Whether the channel's register is a short message without letter frame (greeting block, sign-off)."""
    return channel in SHORT_CHANNELS


def greeting(c: dict[str, Any], name: PersonName | None, form: FormOfAddress | None, channel: str | None) -> str:
    rules = c["salutation"]
    if is_short(channel):
        return rules["chat"].format(first=name.first) if name and name.first else rules["chat_anonymous"]
    form = form or (name.form if name else None)
    if name is not None and name.last and form is not None:
        return rules["formal"][form].format(
            title=f"{name.title} " if name.title else "", last=name.last, full=name.full
        )
    if name is not None and name.first:
        return rules["informal"].format(first=name.first)
    return rules["anonymous"]
