"""The customer help widget (``/widget``, ``/widget.js``) and the standalone help-centre page."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["pages"], include_in_schema=False)
