"""Keep personal data out of logs: access lines carry query strings (`/suggest?q=...`), errors may quote tickets.

Masking happens where every record is made (a log record factory), not in a
filter on a few loggers: a logger's filters do not see records that its child
loggers (``engine.pipeline``) propagate up, and a traceback's text is formatted
later, past any filter's reach. So the message, its arguments and the formatted
exception are all masked before any handler sees the record.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_plus

from engine.privacy.pii import find_pii, redact

_installed: list[Callable[..., logging.LogRecord]] = []


class RedactPII(logging.Filter):
    """Replaces PII (emails, phones, cards, IBANs, security codes, passwords, ids) in a record by labels."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def _clean(value: object) -> object:
    if not isinstance(value, str):
        return value
    decoded = unquote_plus(value)
    spans = find_pii(decoded)
    return redact(decoded, spans) if spans else value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask the record's message, its arguments and its exception text, in place."""
    if isinstance(record.args, tuple):
        record.args = tuple(_clean(a) for a in record.args)
    elif isinstance(record.args, dict):
        record.args = {k: _clean(v) for k, v in record.args.items()}
    if isinstance(record.msg, str):
        record.msg = _clean(record.msg)
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = str(_clean("".join(traceback.format_exception(*record.exc_info)).rstrip("\n")))
    return record


def install_redaction() -> None:
    """Mask every log record the process makes from now on (idempotent)."""
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(previous(*args, **kwargs))

    _installed.append(previous)
    logging.setLogRecordFactory(factory)
