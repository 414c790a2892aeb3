"""Every string a request carries is checked once, before anything is stored: Unicode that cannot be stored.

JSON may carry a lone UTF-16 surrogate (``"\\ud800"``): Python accepts it, but it
cannot be encoded as UTF-8, so SQLite, the log and the response all fail on it.
Such a string is refused with the field's name. NUL is refused too (C libraries
cut text at it, so part of a message would silently vanish downstream). Other
control characters (C0 except tab, newline and carriage return; DEL; C1) carry
no text, break terminals and logs, and are removed; what remains is what is stored.
"""

from __future__ import annotations

import re
from dataclasses import fields, is_dataclass, replace
from typing import Any

from engine.errors import InvalidInput

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_STRIPPED_CONTROLS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def printable_key(key: str) -> str:
    """A dict key as it can be shown in a field name: unencodable characters as ``\\udXXX`` escapes."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def clean_string(value: str, field: str) -> str:
    """``value`` without stray control characters; refuses lone surrogates and NUL, naming ``field``."""
    bad = _SURROGATE.search(value)
    if bad:
        raise InvalidInput(
            field, f"contains a lone UTF-16 surrogate (U+{ord(bad.group()):04X}) at character {bad.start()}, "
            "which is not text; send valid Unicode"
        )
    if "\x00" in value:
        raise InvalidInput(field, f"contains a NUL character at character {value.index(chr(0))}; send text without it")
    return _STRIPPED_CONTROLS.sub("", value)


def clean_fields(value: Any, field: str) -> dict[str, Any]:
    """Each field of the dataclass instance ``value`` cleaned by :func:`clean_strings`, by name.

    A dict, so the caller can check the cleaned values (a text that was only control characters is now blank)
    and name the field before the instance is built and its ``__post_init__`` refuses without naming one.
    """
    return {f.name: clean_strings(getattr(value, f.name), f"{field}.{f.name}" if field else f.name) for f in fields(value)}


def clean_strings(value: Any, field: str) -> Any:
    """``value`` with every string inside it (dict keys, dataclass fields too) checked by :func:`clean_string`;
    the field names the path."""
    if isinstance(value, str):
        return clean_string(value, field)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **clean_fields(value, field))
    if isinstance(value, list):
        return [clean_strings(v, f"{field}.{i}") for i, v in enumerate(value)]
    if isinstance(value, tuple):
        return tuple(clean_strings(v, f"{field}.{i}") for i, v in enumerate(value))
    if isinstance(value, dict):
        out = {}
        for key, v in value.items():
            name = f"{field}.{printable_key(str(key))}" if field else printable_key(str(key))
            clean_key = clean_string(key, name) if isinstance(key, str) else key
            out[clean_key] = clean_strings(v, name)
        return out
    return value
