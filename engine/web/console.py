"""The agent console (``/console``): the triaged queue, one ticket's triage, feedback and reports."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["pages"], include_in_schema=False)
