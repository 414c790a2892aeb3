"""Reading files that users hand to the CLI: refused with the option's name, never a traceback."""

from __future__ import annotations

from pathlib import Path

from engine.errors import InvalidInput


def read_user_text(path: Path, field: str) -> str:
    """The file as text; ``field`` names the CLI argument in the refusal."""
    if not path.is_file():
        raise InvalidInput(field, f"{path} does not exist or is not a file")
    try:
        # utf-8-sig: files re-saved by spreadsheets and some editors start with a byte-order mark.
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(field, f"{path} is not UTF-8 text") from exc
