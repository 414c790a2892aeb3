"""The helpdesk's own macros: Jinja2 templates per queue and language, suggested with a score and rendered."""

from engine.macros.suggest import MacroSuggester
from engine.macros.templates import VARIABLES, Macro, Problem, lint, load_macros

__all__ = ["VARIABLES", "Macro", "MacroSuggester", "Problem", "lint", "load_macros"]
