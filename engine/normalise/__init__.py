"""Stage 1: the text the models should see.

Quoted history and signatures repeat old content and names; left in, they pull
the classifier towards the previous message and leak names into drafts. Greetings,
courtesies, sign-offs and legal footers (``email_noise``) say nothing about the request
but weigh in every embedding. The agent always sees the ticket as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from engine.normalise.email_noise import strip_email_noise
from engine.stage import TicketState
from engine.types import NormalisedText, Ticket

_QUOTE_HEADERS = re.compile(
    r"^\s*(?:"
    r"On .{3,200} wrote:|Am .{3,200} schrieb .{0,200}:|El .{3,200} escribió:|Le .{3,200} a écrit\s?:|"
    r"Dana? .{3,200} (?:je )?napisao:|-{2,}\s*Original Message\s*-{2,}|-{2,}\s*Ursprüngliche Nachricht\s*-{2,}|"
    r"From: .+|Von: .+|De: .+|Od: .+"
    r")\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_SIGNATURE_MARKERS = re.compile(
    r"^(?:-- ?$|Sent from my \w+|Gesendet von meinem \w+|Enviado desde mi \w+|Poslano s mog \w+)",
    re.IGNORECASE | re.MULTILINE,
)
# Links, e-mail addresses and placeholders carry words ("privacy", "cookies") that match articles without
# asking anything; what is left once they are gone is what a KB article could answer.
_NOT_A_QUESTION = re.compile(
    r"(?i:https?://|www\.)\S+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b|\b[\w-]+(?:\.[a-z]{2,})+(?:/\S*)?\b|<[a-z_]+>"
)
_WORD = re.compile(r"[^\W\d_]{2,}")


def answerable_text(text: str) -> str:
    """The text without links, e-mail addresses and placeholders: what retrieval should match against."""
    return re.sub(r"\s+", " ", _NOT_A_QUESTION.sub(" ", text)).strip()


# Identifiers: amounts, dates, times and any token with three or more digits (order, ticket and invoice numbers,
# postcodes, years). Their digits say nothing a head or an article could match, yet "Where is my order 48213?"
# lands far from "Where is my order?" in the encoder's space (out of scope instead of delivery).
# Month names and their short forms in the languages tickets arrive in, for dates written out ("12 March 2024",
# "March 12th", "12. März", "12 de marzo de 2024"): a day and month left behind moved a topic as much as a number.
_MONTHS = (
    "january february march april may june july august september october november december"
    " jan feb mar apr jun jul aug sep sept oct nov dec"
    " januar februar märz mai juni juli oktober dezember jänner mär okt dez"
    " janvier février mars avril juin juillet août septembre octobre novembre décembre janv févr avr juil déc"
    " enero febrero marzo abril mayo junio julio agosto septiembre setiembre octubre noviembre diciembre"
    " gennaio febbraio aprile maggio giugno luglio settembre ottobre dicembre"
    " janeiro fevereiro março maio junho julho setembro outubro dezembro"
    " januari februari maart mei augustus"
    " siječanj siječnja veljača veljače ožujak ožujka travanj travnja svibanj svibnja lipanj lipnja srpanj srpnja"
    " kolovoz kolovoza rujan rujna listopad listopada studeni studenoga prosinac prosinca"
).split()
_MONTH = "(?:" + "|".join(sorted(map(re.escape, _MONTHS), key=len, reverse=True)) + r")\.?"
_WRITTEN_DATE = (
    rf"\b\d{{1,2}}(?:st|nd|rd|th|\.)?\s+(?:(?:of|de)\s+)?{_MONTH}(?:,?\s+(?:de\s+)?\d{{4}})?(?!\w)"
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+\d{{4}})?"
)
# The abbreviations for "number" that label an identifier ("order no. 48213", "Bestell-Nr. 48213", "nº 48213") are
# part of it: left behind, "no." read as a word (a negation) and cost BANKING77 0.4 points where it was inserted.
_NUMBER_SIGN = r"(?i:\bno\.|-?\bnr\.?|\bnum\.|\bnº|\bn°|\bnᵒ)"
_IDENTIFIERS = re.compile(
    r"(?:[€$£¥]\s?\d[\d.,]*|\b\d[\d.,]*\s?(?:[€$£¥]|(?i:eur|usd|gbp|chf|kn|euros?|dollars?|pounds?)\b))"
    rf"|(?i:{_WRITTEN_DATE})"
    r"|\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b|\b\d{1,2}:\d{2}\b"
    rf"|(?:{_NUMBER_SIGN}\s?)?#?\b[\w-]*\d{{3,}}[\w-]*\b"
)


def encoder_text(text: str) -> str:
    """What the encoder reads of a text: no links, addresses, placeholders or identifiers (the text itself when
    nothing would be left). Training and serving both encode this, so heads never learn a number either."""
    kept = re.sub(r"\s+", " ", _IDENTIFIERS.sub(" ", answerable_text(text))).strip()
    kept = re.sub(r"\s+([?!.,;:])", r"\1", kept)
    return kept if _WORD.search(kept) else text


def has_words(text: str) -> bool:
    """Whether any word of two letters or more is left once links, addresses and numbers are gone."""
    return _WORD.search(answerable_text(text)) is not None


class Normaliser:
    name = "normalise"
    needs: tuple[str, ...] = ()
    required = False

    def __init__(self, strip_noise: bool = True) -> None:
        """``strip_noise``: take greetings, courtesies, sign-offs and legal footers out (``strip_email_noise``)."""
        self._strip_noise = strip_noise

    def warm_up(self) -> None:
        """Nothing to load; present so every stage has the same life cycle."""

    def run(self, batch: Sequence[TicketState]) -> None:
        texts = [self.normalise(s.ticket, self._strip_noise).text for s in batch]
        for state, text in zip(batch, texts, strict=True):
            state.text = text

    @staticmethod
    def normalise(ticket: Ticket, strip_noise: bool = True) -> NormalisedText:
        body = ticket.text.replace("\r\n", "\n").replace("\r", "\n")
        removed_quote = removed_signature = False
        header = _QUOTE_HEADERS.search(body)
        if header and header.start() > 0:
            body, removed_quote = body[: header.start()], True
        lines = body.split("\n")
        kept = [line for line in lines if not line.lstrip().startswith(">")]
        if len(kept) != len(lines) and any(line.strip() for line in kept):
            body, removed_quote = "\n".join(kept), True
        signature = _SIGNATURE_MARKERS.search(body)
        if signature and signature.start() > 0:
            body, removed_signature = body[: signature.start()], True
        if strip_noise:
            body = strip_email_noise(body)
        body = re.sub(r"[ \t]+", " ", body)
        body = re.sub(r"\n{3,}", "\n\n", body).strip()
        if not body:
            body = ticket.text.strip()
        subject = (ticket.subject or "").strip()
        text = f"{subject}\n{body}" if subject and subject.lower() not in body.lower() else body
        return NormalisedText(text=text, removed_quote=removed_quote, removed_signature=removed_signature)
