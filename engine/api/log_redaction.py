"""Keep personal data out of logs: access lines carry query strings (`/suggest?q=...`)."""

from __future__ import annotations

import logging
from urllib.parse import unquote_plus

from engine.entities.pii import find_pii, redact


class RedactPII(logging.Filter):
    """Replaces emails, phones, cards and IBANs in a record's message arguments by their labels."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(a) for a in record.args)
        if isinstance(record.msg, str):
            record.msg = self._clean(record.msg)
        return True

    @staticmethod
    def _clean(value: object) -> object:
        if not isinstance(value, str):
            return value
        decoded = unquote_plus(value)
        spans = find_pii(decoded)
        return redact(decoded, spans) if spans else value


def install_redaction() -> None:
    for name in ("uvicorn.access", "uvicorn.error", "engine"):
        logging.getLogger(name).addFilter(RedactPII())
