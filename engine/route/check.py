"""`sift policy check`: a routing policy's mistakes, each with the line of the file it is on.

Start-up refuses a bad policy with pydantic's message, which names a path (``thresholds.per_topic.billing``)
but not where it is in the file. A team lead editing the file wants the line, so the YAML is composed into
nodes (which keep their marks) and each error's path is walked down them. Beyond the schema, mistakes the
schema cannot see are reported: a queue named only once (a queue spelt nearly like another is a queue nobody watches), topics the
trained topic head does not know (their rules never fire), reason codes no rule emits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import yaml
from pydantic import ValidationError

from engine.route.policy import RoutingPolicy
from engine.route.router import HANDOFF_RULES
from engine.types import URGENCY_LEVELS


@dataclass(frozen=True)
class Problem:
    """One finding: an error makes the policy unusable, a warning is probably not what was meant."""

    severity: Literal["error", "warning"]
    line: int | None
    """1-based; None when the file has no node for it (a missing required key)."""
    path: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "file"
        return f"{where}: {self.severity}: {self.path + ': ' if self.path else ''}{self.message}"


def _node_at(root: yaml.Node | None, path: Sequence[str | int]) -> yaml.Node | None:
    """The deepest node on ``path`` that the file has (a key's node when the path ends on a key).

    A missing key's error lands on the mapping that lacks it, the nearest line a reader can act on.
    """
    node = root
    for i, step in enumerate(path):
        if isinstance(node, yaml.MappingNode):
            pair = next(((k, v) for k, v in node.value if k.value == str(step)), None)
            if pair is None:
                return node
            node = pair[0] if i == len(path) - 1 else pair[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
        else:
            return node
    return node


def _line(root: yaml.Node | None, path: Sequence[str | int]) -> int | None:
    node = _node_at(root, path)
    return node.start_mark.line + 1 if node is not None else None


def check_policy(text: str, topics: Sequence[str] | None = None) -> tuple[RoutingPolicy | None, list[Problem]]:
    """The policy in ``text`` (None if it has errors) and every problem found, in line order.

    ``topics``: the trained topic head's labels, when there is one; without them topics are not checked.
    """
    try:
        root = yaml.compose(text)
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        return None, [Problem("error", mark.line + 1 if mark else None, "", f"not valid YAML: {reason}")]
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        return None, [Problem("error", 1, "", f"the policy must be a mapping of keys, not a {type(raw).__name__}")]
    try:
        policy = RoutingPolicy(**raw)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = [step for step in error["loc"] if step != "__root__"]
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key (a typo, or a key this version does not have)"
            problems.append(Problem("error", _line(root, loc), ".".join(map(str, loc)), message))
        return None, sorted(problems, key=lambda p: p.line or 0)
    except TypeError as exc:  # keys that are not strings
        return None, [Problem("error", 1, "", str(exc))]
    problems = sorted(_semantic(policy, root, topics), key=lambda p: p.line or 0)
    return (None if any(p.severity == "error" for p in problems) else policy), problems


def _semantic(policy: RoutingPolicy, root: yaml.Node | None, topics: Sequence[str] | None) -> list[Problem]:
    """What the schema lets through but a team lead did not mean."""
    problems: list[Problem] = []

    def report(severity: Literal["error", "warning"], path: list[str | int], message: str) -> None:
        problems.append(Problem(severity, _line(root, path), ".".join(map(str, path)), message))

    for i, level in enumerate(policy.escalate_urgency):
        if level not in URGENCY_LEVELS:
            report("error", ["escalate_urgency", i], f"{level!r} is no urgency; use {', '.join(URGENCY_LEVELS)}")
    for key in (*policy.priorities, *policy.urgency_queues):
        if key not in URGENCY_LEVELS:
            where = "priorities" if key in policy.priorities else "urgency_queues"
            report("error", [where, key], f"{key!r} is no urgency; use {', '.join(URGENCY_LEVELS)}")
    # A queue spelt nearly like another is likely a typo: its tickets would wait where nobody looks.
    named: list[tuple[str, list[str | int]]] = [
        *((q, ["queues", t]) for t, q in policy.queues.items()),
        (policy.default_queue, ["default_queue"]),
        *((q, ["urgency_queues", u]) for u, q in policy.urgency_queues.items()),
        *((r.queue, ["risk", k]) for k, r in policy.risk.items() if r.queue),
    ]
    queues = {q for q, _ in named}
    for queue, path in named:
        similar = [q for q in sorted(queues) if q != queue and _close(q, queue)]
        if similar:
            report("warning", path, f"queue {queue!r} looks like {', '.join(map(repr, similar))}: a typo?")
    if policy.fallback_language not in policy.agent_languages:
        report("warning", ["fallback_language"], f"{policy.fallback_language!r} is not in agent_languages")
    for code, target in policy.language_equivalents.items():
        if target not in policy.agent_languages:
            report("warning", ["language_equivalents", code], f"{target!r} is not in agent_languages: never used")
    codes = {c.split(":")[0] for c in HANDOFF_RULES}
    for i, code in enumerate(policy.withhold_answer):
        if code.split(":")[0] not in codes:
            report("warning", ["withhold_answer", i], f"no rule hands off with reason {code!r}")
    if topics is not None:
        known = set(topics)
        for path, topic in (
            *((["queues", t], t) for t in policy.queues),
            *((["thresholds", "per_topic", t], t) for t in policy.thresholds.per_topic),
            *((["always_handoff_topics", i], t) for i, t in enumerate(policy.always_handoff_topics)),
        ):
            if topic not in known:
                report("warning", path, f"the topic head knows no topic {topic!r} ({', '.join(sorted(known))}): "
                       "this rule never fires")
    return problems


def _close(a: str, b: str) -> bool:
    """Two names one edit apart (or equal but for case, '-' and '_'): likely the same queue spelt twice."""
    fa, fb = (s.lower().replace("_", "-") for s in (a, b))
    if fa == fb:
        return True
    if abs(len(fa) - len(fb)) > 1 or min(len(fa), len(fb)) < 4:
        return False
    if len(fa) == len(fb):
        return sum(x != y for x, y in zip(fa, fb, strict=True)) == 1
    short, long = sorted((fa, fb), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))

