"""Who signs a draft, in the draft's language.

A Spanish reply signed "The Lumio Support Team" reads as a form letter, so the signature is localised: the
knowledge base's own name for that language (``agent_names``), else the catalog's team name filled with its
brand ("El equipo de soporte de Lumio"), else its ``agent_name`` as configured (a brand the catalogs cannot know).
"""

from __future__ import annotations

from typing import Any

from engine.settings import KnowledgeBase


def team_name(kb: KnowledgeBase, language: str, c: dict[str, Any]) -> str:
    names = dict(kb.agent_names)
    if language in names:
        return names[language]
    if kb.brand:
        return str(c["team"]).format(brand=kb.brand)
    return kb.agent_name
