"""Personal data found by patterns with checksums, the same in every language.

Checksums (Luhn for cards, ISO 7064 mod 97 for IBANs, mod 11,10 for Croatian OIBs,
mod 23 for Spanish DNI/NIE) keep order numbers and tracking codes from being
flagged as card numbers and sent to a human needlessly. Secrets without a shape of
their own (a card's security code, a password) are found by the words customers
put before them, in the supported languages.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from engine.types import Span, Ticket

# The local part starts where a run of its characters starts and is bounded: "\b[\w.+-]+@" retried the
# whole run from every position of it, and 20,000 characters of "a.a.a." took a second per field.
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]{1,256}@[\w-]+(?:\.[\w-]+)+\b")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")
_PHONE = re.compile(r"(?<![\w#])(?:\+|00)?\d[\d ()/.-]{7,18}\d(?!\w)")
_CONNECTOR = r"(?:\s*(?:[:=#-]|is|was|je|ist|lautet|es|est|è|é|to|jest|är|er|are)?\s*[:=]?\s*)"
# A card's security code: only after a word for it, never a bare 3-digit number.
_SECURITY_CODE = re.compile(
    r"(?i)\b(?:cvv2?|cvc2?|csc|cid|security code|card code|sigurnosni kod|kontrolni broj|kartenprüfnummer|"
    r"prüfnummer|sicherheitscode|código de seguridad|codigo de seguridad|cryptogramme|code de sécurité|"
    r"codice di sicurezza|código de segurança|beveiligingscode|kod zabezpieczający|bezpečnostní kód|"
    r"säkerhetskod|sikkerhedskode|varnostna koda)" + _CONNECTOR + r"(\d{3,4})\b"
)
# A password given in the text ("my password is X", "lozinka je X", "Passwort: X"): the secret itself.
_PASSWORD = re.compile(
    r"(?i)\b(?:password|passwd|pwd|passcode|pin|lozinka|lozinku|lozinke|šifra|šifru|zaporka|zaporku|geslo|"
    r"passwort|kennwort|contraseña|contrasena|clave|mot de passe|mdp|senha|wachtwoord|hasło|hasła|heslo|"
    r"lösenord|losenord|adgangskode|kodeord)"
    r"(?P<sep>\s*(?:[:=]|is|was|je|glasi|ist|lautet|war|es|era|est|était|è|era|é|was|jest|to|är|er|var)\s*[:=]?\s*)"
    r"(?P<quote>[\"'«“„‘]?)(?P<secret>[^\s\"'«»“”„‘’]{3,64})"
)
_TRAILING = ".,;!?)]}"
_OIB = re.compile(r"(?i)\bOIB\s*[:.]?\s*(\d{11})\b")
_DNI = re.compile(r"\b([XYZ]?\d{7,8})-?([A-Z])\b")
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _iban_ok(raw: str) -> bool:
    iban = raw.replace(" ", "")
    if not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def _oib_ok(digits: str) -> bool:
    """ISO 7064 MOD 11,10, the check digit of the Croatian personal identification number (OIB)."""
    rest = 10
    for ch in digits[:10]:
        rest = (rest + int(ch)) % 10 or 10
        rest = (rest * 2) % 11
    return (11 - rest) % 10 == int(digits[10])


def _dni_ok(number: str, letter: str) -> bool:
    """The mod-23 control letter of a Spanish DNI, or of an NIE (X/Y/Z read as 0/1/2)."""
    digits = number.translate(str.maketrans("XYZ", "012"))
    return len(digits) in (8, 9) and _DNI_LETTERS[int(digits) % 23] == letter


def _is_secret(secret: str, separator: str, quoted: bool) -> bool:
    """Whether the word after "password is" is a password, not "not working" or "reset".

    Quoted, or after a colon or equals sign: anything of 4+ characters. After a verb ("is", "je", "ist"):
    only a token with a digit or a symbol, or mixed case, as real passwords are; a plain word is prose.
    """
    if len(secret) < 3:
        return False
    if quoted or any(c in separator for c in ":="):
        return len(secret) >= 4
    has_digit_or_symbol = any(not c.isalpha() for c in secret)
    mixed_case = any(c.isupper() for c in secret[1:]) and any(c.islower() for c in secret)
    return has_digit_or_symbol or mixed_case


def find_pii(text: str) -> list[Span]:
    """Emails, IBANs, payment cards, security codes, passwords, national ids and phone numbers, without overlaps."""
    spans: list[Span] = []
    taken: list[tuple[int, int]] = []

    def add(label: str, m: re.Match[str], group: int | str = 0) -> None:
        start, end = m.start(group), m.end(group)
        if any(start < e and s < end for s, e in taken):
            return
        spans.append(Span(label=label, text=m.group(group), start=start, end=end, source="pii-rules"))
        taken.append((start, end))

    for m in _PASSWORD.finditer(text):
        secret = m.group("secret")
        stripped = secret.rstrip(_TRAILING) if not m.group("quote") else secret
        if stripped and _is_secret(stripped, m.group("sep"), bool(m.group("quote"))):
            spans.append(
                Span("PASSWORD", stripped, m.start("secret"), m.start("secret") + len(stripped), "pii-rules")
            )
            taken.append((m.start("secret"), m.start("secret") + len(stripped)))
    for m in _EMAIL.finditer(text):
        add("EMAIL", m)
    for m in _SECURITY_CODE.finditer(text):
        add("CARD_SECURITY_CODE", m, 1)
    for m in _OIB.finditer(text):
        if _oib_ok(m.group(1)):
            add("NATIONAL_ID", m, 1)
    for m in _DNI.finditer(text):
        if _dni_ok(m.group(1), m.group(2)):
            add("NATIONAL_ID", m)
    for m in _IBAN.finditer(text):
        if _iban_ok(m.group()):
            add("IBAN", m)
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and _luhn_ok(digits):
            add("CARD_NUMBER", m)
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        # Bare 5-8 digit runs are order numbers; phones carry a prefix or separators.
        has_shape = m.group().startswith(("+", "00", "0")) or re.search(r"[ ()/.-]", m.group())
        if 9 <= len(digits) <= 15 and has_shape:
            add("PHONE", m)
    return sorted(spans, key=lambda s: s.start)


def redact(text: str, spans: list[Span] | None = None, mark: Callable[[Span], str] | None = None) -> str:
    """The text with every PII span replaced by ``mark(span)``: its label (``[EMAIL]``) unless told otherwise."""
    spans = find_pii(text) if spans is None else spans
    out, last = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        out.append(text[last : span.start])
        out.append(mark(span) if mark else f"[{span.label}]")
        last = span.end
    out.append(text[last:])
    return "".join(out)


def ticket_fields(ticket: Ticket) -> list[tuple[str, str]]:
    """(field name, text) of every free-text field of a ticket a customer may put personal data in."""
    fields = [("text", ticket.text)]
    if ticket.subject:
        fields.append(("subject", ticket.subject))
    fields += [(f"messages.{i}.text", m.text) for i, m in enumerate(ticket.messages) if m.text]
    return fields


def find_ticket_pii(ticket: Ticket) -> tuple[Span, ...]:
    """PII in the text, the subject and every earlier message; each span names its field, offsets into it."""
    return tuple(
        replace(span, field=name) for name, text in ticket_fields(ticket) for span in find_pii(text)
    )
