"""The JSON of Sift's values, read off their types: one shape for the API, `sift triage` and the ticket log.

pydantic serialises the frozen dataclasses of ``engine/types.py`` as they are, without validating them again
(about 2 µs a result); a field marked ``Field(exclude=True)`` stays internal.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter


@cache
def _adapter(kind: type) -> TypeAdapter[Any]:
    """One adapter per type: building one costs milliseconds, using it microseconds."""
    return TypeAdapter(kind)


def to_json(value: object) -> bytes:
    """``value`` as compact UTF-8 JSON, as the API sends it."""
    return _adapter(type(value)).dump_json(value)


def to_jsonable(value: object, exclude: set[str] | None = None) -> Any:
    """``value`` as JSON-ready Python (dicts, lists, strings, numbers, None), leaving out the ``exclude`` fields."""
    return _adapter(type(value)).dump_python(value, mode="json", exclude=exclude)
