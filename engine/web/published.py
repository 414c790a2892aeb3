"""The HTML reports report commands publish into ``Settings.reports_dir``, listed and served read-only.

Only plain ``.html`` files directly in the folder are listed and served, by a name checked against a strict
pattern and resolved inside the folder, so no request reaches another file (``..``, a link out, a hidden
temporary file being written). A report is served with a Content-Security-Policy sandbox: whatever it holds
runs as an opaque origin, with no access to the console's cookies or API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from engine.errors import NotFound

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.html?$")
REPORT_POLICY = (
    "sandbox allow-scripts; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; frame-ancestors 'self'"
)


@dataclass(frozen=True)
class Published:
    name: str
    kind: str
    modified: str
    size_kb: int


def kind_of(name: str) -> str:
    """What a report is, read off the name the commands give it (eval-…, gaps-…, backtest-…)."""
    head = name.split("-", 1)[0].split(".", 1)[0].lower()
    return {"eval": "evaluation", "gaps": "KB gaps", "backtest": "backtest"}.get(head, "report")


def listing(folder: Path) -> list[Published]:
    """Every servable report in ``folder``, newest first; an absent folder lists none."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        if NAME.match(path.name) and path.is_file() and not path.is_symlink():
            stat = path.stat()
            modified = datetime.fromtimestamp(stat.st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
            found.append((stat.st_mtime, Published(path.name, kind_of(path.name), modified, max(1, stat.st_size // 1024))))
    return [p for _, p in sorted(found, key=lambda item: (-item[0], item[1].name))]


def report_path(folder: Path, name: str) -> Path:
    """The file ``name`` names in ``folder``; NotFound for anything else (bad name, missing, outside)."""
    if not NAME.match(name):
        raise NotFound(f"no report {name!r}")
    path = folder / name
    if not path.is_file() or path.is_symlink() or path.resolve().parent != folder.resolve():
        raise NotFound(f"no report {name!r}")
    return path


def publish_name(kind: str, now: datetime | None = None) -> str:
    """A new report's file name in the reports folder: ``<kind>-<UTC time>.html``, sorting by time."""
    return f"{kind}-{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%SZ')}.html"
