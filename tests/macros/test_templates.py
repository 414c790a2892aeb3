"""Macro files: loaded and linted alike, errors with file:line, rendering strict and sandboxed."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import UndefinedError
from jinja2.exceptions import SecurityError

from engine.errors import InvalidInput
from engine.macros import VARIABLES, lint, load_macros
from engine.settings import Settings

GOOD = """---
title: Order delayed
queues: [orders]
topics: [delivery]
examples: [My order has not arrived]
---
Hi {{ customer_first_name or "there" }},
{% if order_number %}
order {{ order_number }} is on its way.
{% endif %}
{{ agent_name }}
"""


def folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def values(**overrides: object) -> dict[str, object]:
    return {name: None for name in VARIABLES} | overrides


def test_the_shipped_macros_are_clean_in_english_and_german() -> None:
    macros, problems = lint(Settings().macros_dir)  # type: ignore[arg-type]
    assert problems == []
    by_language = {lang: {m.id for m in macros if m.language == lang} for lang in ("en", "de")}
    assert len(by_language["en"]) >= 5 and by_language["de"] <= by_language["en"]


def test_a_good_macro_loads_and_renders(tmp_path: Path) -> None:
    [macro] = load_macros(folder(tmp_path, {"orders/order-delayed.en.j2": GOOD}))
    assert (macro.id, macro.language, macro.meta.queues, macro.meta.topics) == ("order-delayed", "en", ("orders",), ("delivery",))
    assert macro.match_texts == ["Order delayed", "My order has not arrived"]
    assert macro.reads == {"customer_first_name", "order_number", "agent_name"}
    text = macro.render(values(customer_first_name="Ana", order_number="12345", agent_name="Lumio"))
    assert text == "Hi Ana,\norder 12345 is on its way.\nLumio"
    assert macro.render(values(agent_name="Lumio")) == "Hi there,\nLumio"


def test_an_undefined_variable_is_reported_at_its_line(tmp_path: Path) -> None:
    bad = GOOD.replace("{{ agent_name }}", "{{ agent_name }} {{ order_id }}\n{{ customer.name }}")
    _, problems = lint(folder(tmp_path, {"order.en.j2": bad}))
    assert [(p.line, p.message.split(" (")[0]) for p in problems] == [
        (11, "undefined variable 'order_id'"),
        (12, "undefined variable 'customer'"),
    ]
    assert str(problems[0]).startswith(f"{tmp_path / 'order.en.j2'}:11: undefined variable 'order_id'")


def test_a_syntax_error_is_reported_at_its_line(tmp_path: Path) -> None:
    bad = GOOD.replace("{% endif %}", "")
    _, problems = lint(folder(tmp_path, {"order.en.j2": bad}))
    [problem] = problems
    assert problem.message.startswith("syntax error:") and "endif" in problem.message
    assert problem.line == 11  # the last line, where Jinja2 gave up looking for it


def test_a_syntax_error_on_a_line_of_its_own(tmp_path: Path) -> None:
    _, problems = lint(folder(tmp_path, {"order.en.j2": GOOD.replace("{{ agent_name }}", "{{ agent_name }")}))
    assert [p.line for p in problems] == [11]


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("order.en.j2", GOOD.replace("title: Order delayed\n", ""), "title: Field required"),
        ("order.en.j2", GOOD.replace("topics:", "topix:"), "topix: Extra inputs"),
        ("order.en.j2", GOOD.replace("queues: [orders]", "queues: [orders"), "not YAML"),
        ("order.en.j2", GOOD.split("---\n", 2)[2], "no front matter"),
        ("Order.EN.j2", GOOD, "<id>.<language>.j2"),
        ("order.j2", GOOD, "<id>.<language>.j2"),
    ],
    ids=["no-title", "unknown-key", "bad-yaml", "no-front-matter", "upper-case", "no-language"],
)
def test_bad_front_matter_and_names(tmp_path: Path, name: str, text: str, message: str) -> None:
    macros, problems = lint(folder(tmp_path, {name: text}))
    assert macros == [] and len(problems) == 1 and message in problems[0].message


def test_a_file_that_is_not_utf8_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "order.de.j2").write_bytes(GOOD.replace("Hi", "Grüß").encode("latin-1"))
    macros, problems = lint(tmp_path)
    assert macros == [] and len(problems) == 1 and "not UTF-8" in problems[0].message


def test_the_same_macro_twice_in_one_language_is_reported(tmp_path: Path) -> None:
    macros, problems = lint(folder(tmp_path, {"a/order.en.j2": GOOD, "b/order.en.j2": GOOD, "b/order.de.j2": GOOD}))
    assert len(macros) == 2 and len(problems) == 1 and "also" in problems[0].message


def test_load_refuses_a_folder_with_problems(tmp_path: Path) -> None:
    bad = folder(tmp_path, {"good.en.j2": GOOD, "bad.en.j2": GOOD.replace("agent_name", "agent")})
    with pytest.raises(InvalidInput, match=r"bad\.en\.j2:11: undefined variable 'agent'") as caught:
        load_macros(bad)
    assert caught.value.field == "macros_dir"
    with pytest.raises(InvalidInput, match="not a folder"):
        load_macros(tmp_path / "absent")


def test_rendering_is_strict_about_what_a_macro_is_not_given(tmp_path: Path) -> None:
    [macro] = load_macros(folder(tmp_path, {"order.en.j2": GOOD}))
    with pytest.raises(UndefinedError, match="agent_name"):
        macro.render({"customer_first_name": "Ana", "order_number": None})


def test_the_sandbox_keeps_templates_out_of_python_internals(tmp_path: Path) -> None:
    sneaky = GOOD.replace("{{ agent_name }}", "{{ agent_name.__class__.__mro__ }}{{ agent_name.format.__globals__ }}")
    [macro] = load_macros(folder(tmp_path, {"order.en.j2": sneaky}))
    with pytest.raises((SecurityError, UndefinedError)):
        macro.render(values(agent_name="Lumio"))
