"""A helpdesk's macros as files: Jinja2 templates with YAML front matter, loaded and linted the same way.

A macro is ``<id>.<language>.j2`` (``order-delayed.de.j2``): a front matter block between ``---`` lines with
its title, the queues and topics it is for and a few example customer phrases (what it is matched on), then
the template. Templates render in a sandbox with ``StrictUndefined`` over one documented set of variables
(``VARIABLES``), so a macro can never read the ticket's internals, and a misspelt variable is an error that
`sift macros lint` reports (and start-up refuses) rather than a blank in a customer's reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from engine.errors import InvalidInput

VARIABLES: dict[str, str] = {
    "customer_name": "The customer's name as the ticket gives it, or none.",
    "customer_first_name": "Its first word, for a greeting, or none.",
    "order_number": "The first order number the ticket mentions, or none.",
    "product": "The first product name the ticket mentions, or none.",
    "queue": "The queue routing chose.",
    "topic": "The ticket's topic, or none when out of scope.",
    "urgency": "The urgency routing acted on (low, normal, high, urgent).",
    "language": "The customer's language (ISO 639-1, 'und' when unknown).",
    "agent_language": "The language of the agents it is routed to.",
    "agent_name": "The knowledge base's signature (brand).",
    "quoted_answer": "The KB answer the draft quotes (whole paragraphs), or none when nothing may be quoted.",
    "article_title": "The quoted article's title, or none.",
    "article_url": "Its link, or none.",
    "response_due": "When the customer can expect an answer, written for them, or none without automations.",
}
"""Every variable a macro may read: its name and what it holds (docs/macros.md lists them)."""

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.DOTALL)
FILE_NAME = re.compile(r"^(?P<id>[a-z0-9][a-z0-9_-]*)\.(?P<language>[a-z]{2,3})\.j2$")


class FrontMatter(BaseModel):
    """What a macro is for; queues and topics left empty mean any."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    queues: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    examples: tuple[str, ...] = Field(default=(), description="Customer phrases it answers: matched by meaning.")


@dataclass(frozen=True)
class Macro:
    id: str
    language: str
    meta: FrontMatter
    template: Template
    path: Path
    reads: frozenset[str]
    """The variables it uses (all of them in VARIABLES, or it would not have loaded)."""

    @property
    def match_texts(self) -> list[str]:
        """What the ticket is compared with: the title and each example, each on its own."""
        return [self.meta.title, *self.meta.examples]

    def render(self, variables: dict[str, Any]) -> str:
        return self.template.render(variables).strip()


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


def environment() -> SandboxedEnvironment:
    """Sandboxed (no attribute access to internals), strict (an undefined name raises), plain text (no escaping)."""
    return SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False
    )


def _parse(path: Path, env: SandboxedEnvironment) -> tuple[Macro | None, list[Problem]]:
    name = FILE_NAME.match(path.name)
    if name is None:
        return None, [Problem(path, None, "name it <id>.<language>.j2, e.g. order-delayed.de.j2 (lower case)")]
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [Problem(path, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
    header = FRONT_MATTER.match(text)
    if header is None:
        return None, [Problem(path, 1, "no front matter: start with '---', the title and examples, then '---'")]
    offset = header.group(0).count("\n")  # template line 1 is this file line offset + 1
    try:
        front = FrontMatter.model_validate(yaml.safe_load(header.group(1)) or {})
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, [Problem(path, mark.line + 2 if mark else 1, f"front matter is not YAML: {exc}")]
    except ValidationError as exc:
        issues = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'front matter'}: {e['msg']}" for e in exc.errors())
        return None, [Problem(path, 2, f"bad front matter: {issues}")]
    body = text[header.end() :]
    try:
        tree = env.parse(body)
    except TemplateSyntaxError as exc:
        return None, [Problem(path, (exc.lineno or 0) + offset, f"syntax error: {exc.message}")]
    reads = meta.find_undeclared_variables(tree)
    unknown = reads - set(VARIABLES)
    if unknown:
        lines: dict[str, int] = {}
        for node in tree.find_all(nodes.Name):
            if node.name in unknown:
                lines.setdefault(node.name, node.lineno)  # its first use
        return None, [
            Problem(path, lines[v] + offset, f"undefined variable {v!r} (known: {', '.join(VARIABLES)})")
            for v in sorted(unknown, key=lambda v: lines[v])
        ]
    macro = Macro(name["id"], name["language"], front, env.from_string(body), path, frozenset(reads))
    return macro, []


def lint(folder: Path) -> tuple[list[Macro], list[Problem]]:
    """Every macro of the folder (recursively) and every problem found: syntax, variables, front matter, names."""
    if not folder.is_dir():
        raise InvalidInput("macros_dir", f"{folder} is not a folder")
    env = environment()
    macros: list[Macro] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], Path] = {}
    for path in sorted(folder.rglob("*.j2")):
        macro, found = _parse(path, env)
        problems += found
        if macro is None:
            continue
        key = (macro.id, macro.language)
        if key in seen:
            problems.append(Problem(path, None, f"macro {macro.id!r} in {macro.language!r} is also {seen[key]}"))
            continue
        seen[key] = path
        macros.append(macro)
    return macros, problems


def load_macros(folder: Path) -> list[Macro]:
    """The folder's macros, or InvalidInput naming every problem: a broken macro stops start-up."""
    macros, problems = lint(folder)
    if problems:
        raise InvalidInput("macros_dir", "; ".join(map(str, problems)) + " (run `sift macros lint`)")
    return macros
