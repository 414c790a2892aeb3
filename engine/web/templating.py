"""One Jinja2 environment for every page, autoescaping on: ticket text shown to an agent is untrusted input."""

from __future__ import annotations

from pathlib import Path

from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from engine import __version__

WEB_DIR = Path(__file__).parent
templates = Jinja2Templates(directory=WEB_DIR / "templates")
templates.env.globals["version"] = __version__


def static_files() -> StaticFiles:
    """The pages' scripts and styles under ``/static``; the version in their URLs busts caches on upgrade."""
    return StaticFiles(directory=WEB_DIR / "static")
