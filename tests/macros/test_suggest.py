"""Macro suggestions on realistic tickets through the real pipeline: ranking, score, the quoted answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.macros import Macro, MacroSuggester, load_macros
from engine.models.registry import ModelRegistry
from engine.pipeline import Pipeline
from engine.result_shape import to_jsonable
from engine.stage import TicketState
from engine.types import LanguageResult, Route, Ticket, TriageResult

pytestmark = pytest.mark.slow

# Ticket -> the macro a helpdesk would pick (ids of the shipped macros/ folder), in the customer's language.
EXPECTED = [
    ("My order 12345 still has not arrived and the tracking has not moved for a week.", "order-delayed", "en"),
    ("Meine Bestellung 55555 ist immer noch nicht angekommen, wo bleibt das Paket?", "order-delayed", "de"),
    ("I forgot my password and the reset email never comes.", "password-reset", "en"),
    ("Ich habe mein Passwort vergessen und komme nicht mehr in mein Konto.", "password-reset", "de"),
    ("My Lumio Hub shows offline in the app since yesterday.", "device-offline", "en"),
    ("Die Lampe reagiert nicht mehr und ist in der App offline.", "device-offline", "de"),
    ("I sent the thermostat back three weeks ago and there is still no refund on my card.", "refund-status", "en"),
    ("The plug is not for me, how do I send it back?", "return-label", "en"),
]


@pytest.fixture(scope="module")
def results(pipeline: Pipeline) -> list[TriageResult]:
    tickets = [Ticket(text=text, customer_name="Ana Horvat") for text, _, _ in EXPECTED]
    return pipeline.run(tickets, [f"m{i}" for i in range(len(tickets))])


@pytest.fixture(scope="module")
def shipped(pipeline: Pipeline) -> dict[tuple[str, str], Macro]:
    """The macros the pipeline under test loaded, by id and language."""
    assert pipeline.settings.macros_dir is not None
    return {(m.id, m.language): m for m in load_macros(pipeline.settings.macros_dir)}


@pytest.mark.parametrize("index", range(len(EXPECTED)), ids=[e[1] + "-" + e[2] for e in EXPECTED])
def test_the_fitting_macro_ranks_first(
    results: list[TriageResult], shipped: dict[tuple[str, str], Macro], index: int
) -> None:
    _, expected, language = EXPECTED[index]
    result = results[index]
    assert result.failed_stages == ()
    assert [m.id for m in result.macros][:1] == [expected], [(m.id, m.score) for m in result.macros]
    assert all(m.language == language for m in result.macros)
    scores = [m.score for m in result.macros]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    # Clearly ahead of the macros written for other queues (and the generic one), even where routing missed the
    # queue (a password ticket the topic head left out of scope): the meaning part alone separates them. A macro
    # for the same queue (refund status beside return label) may come close.
    queues = set(shipped[expected, language].meta.queues)
    elsewhere = [m.score for m in result.macros[1:] if not queues & set(shipped[m.id, m.language].meta.queues)]
    assert all(scores[0] - score >= 0.15 for score in elsewhere), [(m.id, m.score) for m in result.macros]


def test_the_macro_is_rendered_for_the_ticket_with_the_drafts_quoted_answer(
    results: list[TriageResult], shipped: dict[tuple[str, str], Macro]
) -> None:
    quoting = [r for r in results if r.draft is not None and r.draft.citations]
    assert quoting, "the demo KB answers some of these tickets"
    for result in quoting:
        top = result.macros[0]
        assert top.text.startswith(("Hi Ana,", "Hallo Ana,"))
        assert "{{" not in top.text and "{%" not in top.text
        if "quoted_answer" in shipped[top.id, top.language].reads:
            assert result.draft is not None and top.citations == result.draft.citations[:1]
            assert result.draft.quotes[0] in top.text  # the very excerpt the draft quotes


def test_nothing_is_quoted_where_the_draft_quotes_nothing(results: list[TriageResult]) -> None:
    for result in results:
        if result.draft is None or not result.draft.citations:
            assert all(m.citations == () for m in result.macros)


def test_the_order_number_is_filled_in(results: list[TriageResult]) -> None:
    assert "12345" in results[0].macros[0].text and "55555" in results[1].macros[0].text


def test_without_macros_in_the_customers_or_the_agents_language_none_are_offered(pipeline: Pipeline) -> None:
    [result] = pipeline.run([Ticket(text="Mi pedido no ha llegado todavía y ya pasaron dos semanas")], ["es"])
    assert result.language.code == "es" and result.route.language == "es" and result.macros == ()
    assert result.automations is not None and result.automations.language == "es"


def test_results_carry_macros_and_automations_in_their_json(results: list[TriageResult]) -> None:
    body = to_jsonable(results[0])
    assert body["macros"][0]["id"] == "order-delayed" and set(body["macros"][0]) == {
        "id", "title", "language", "score", "text", "citations"
    }
    automations = body["automations"]
    assert automations["language"] == "en" and "order" in automations["tags"]
    assert automations["first_response_due"].endswith(("+01:00", "+02:00"))  # the desk's zone: no customer zone given


def test_no_macros_folder_means_no_suggestions(ready_registry: ModelRegistry, pipeline: Pipeline) -> None:
    stage = MacroSuggester(ready_registry, None, 3)
    stage.warm_up()
    state = TicketState(Ticket(text="Where is my order?"), "x", pipeline.knowledge_bases.resolve(None))
    stage.run([state])
    assert state.macros == ()



def test_a_macro_that_fails_on_this_tickets_values_is_left_out(
    ready_registry: ModelRegistry, pipeline: Pipeline, tmp_path: Path
) -> None:
    head = "---\ntitle: Where is my order\nqueues: [orders]\nexamples: [My order has not arrived]\n---\n"
    (tmp_path / "next-order.en.j2").write_text(head + "Your next order is {{ order_number + 1 }}.\n", encoding="utf-8")
    (tmp_path / "order.en.j2").write_text(head + "Order {{ order_number or 'unknown' }} is on its way.\n", encoding="utf-8")
    stage = MacroSuggester(ready_registry, tmp_path, 3)
    stage.warm_up()
    state = TicketState(Ticket(text="My order has not arrived yet"), "f", pipeline.knowledge_bases.resolve(None))
    state.embedding = ready_registry.encoder.encode_queries([state.text])[0]
    state.language = LanguageResult("en", 0.99)
    state.route = Route("orders", "en", "P3")
    stage.run([state])
    # Both match equally; the one doing arithmetic on a missing order number fails and is skipped.
    assert [m.id for m in state.macros] == ["order"]
    assert state.macros[0].text == "Order unknown is on its way."
