"""The layers of docs/architecture.md, enforced: no module imports from a layer above its own.

A lower layer that reaches up (the registry importing a retrieval module, a stage importing the
service) makes the lower one impossible to read, test or reuse without the upper one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"
# Bottom to top; a module may import from its own layer and the ones below it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("errors", "types", "result_shape", "settings", "user_files", "input_text", "stage", "edit_distance", "__init__"),
    ("models", "privacy", "normalise", "kb", "store", "translate"),
    ("language", "sentiment", "classify", "retrieve", "entities", "draft", "route", "risk", "automate", "macros"),
    ("pipeline", "batching", "training", "bootstrap", "report", "idempotency"),
    ("service", "recovery"),
    ("backfill",),
    ("api", "cli", "web"),
)
LAYER = {name: level for level, names in enumerate(LAYERS) for name in names}


def top_package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "engine" else None


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return found


MODULES = sorted(ENGINE.rglob("*.py"))


def test_every_engine_package_has_a_layer() -> None:
    packages = {p.relative_to(ENGINE).parts[0].removesuffix(".py") for p in MODULES}
    assert packages <= set(LAYER), sorted(packages - set(LAYER))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(ENGINE)))
def test_no_import_reaches_up(path: Path) -> None:
    own = LAYER[path.relative_to(ENGINE).parts[0].removesuffix(".py")]
    upward = [
        m for m in imports(path) if (target := top_package(m)) is not None and LAYER.get(target, -1) > own
    ]
    assert not upward, f"{path.relative_to(ENGINE)} imports from a higher layer: {upward}"
