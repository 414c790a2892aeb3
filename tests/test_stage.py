"""The stage contract (engine/stage.py): what every stage offers, and what the pipeline's loop promises them."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from engine.pipeline import Beside, Pipeline
from engine.settings import Settings
from engine.stage import TicketState
from engine.types import Draft, Ticket


def test_every_stage_follows_the_contract(settings: Settings) -> None:
    # Built without loading a model: a stage's __init__ must be cheap.
    stages = Pipeline(settings).stages
    names = [s.name for s in stages]
    assert len(set(names)) == len(names)
    for position, stage in enumerate(stages):
        assert callable(stage.warm_up) and callable(stage.run)
        assert isinstance(stage.required, bool)
        # A stage can only need what ran before it.
        assert set(stage.needs) <= set(names[:position]), (stage.name, stage.needs)
    assert names[:2] == ["normalise", "encode"] and names[-5:] == ["route", "draft", "gist", "automate", "macros"]


class Signature:
    """A stage written for this test: it signs every draft, as a helpdesk's own stage might."""

    name = "sign"
    needs = ("draft",)
    required = False

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def warm_up(self) -> None:
        """Nothing to load."""

    def run(self, batch: Sequence[TicketState]) -> None:
        if self.fail:
            raise RuntimeError("signature service down")
        for state in batch:
            if state.draft is not None:
                state.draft = Draft(state.draft.text + "\n-- signed", state.draft.language, state.draft.citations)


@pytest.mark.slow
def test_a_new_stage_is_one_entry_in_the_list(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    ticket = Ticket(text="How do I reset my password?")
    monkeypatch.setattr(pipeline, "steps", (*pipeline.steps, Signature()))
    [result] = pipeline.run([ticket], ["a"])
    assert result.draft is not None and result.draft.text.endswith("-- signed")
    assert "sign" in result.timings_ms and result.failed_stages == ()

    # Its failure is isolated like any other stage's: reported, handed off, the rest answered.
    monkeypatch.setattr(pipeline, "steps", (*pipeline.steps[:-1], Signature(fail=True)))
    [result] = pipeline.run([ticket], ["b"])
    assert result.failed_stages == ("sign",) and result.draft is not None and result.topic is not None


@pytest.mark.slow
def test_a_stage_whose_input_failed_is_skipped_and_counted(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(_: list[str]) -> None:
        raise RuntimeError("encoder weights unreadable")

    monkeypatch.setattr(pipeline.registry.encoder, "encode_queries", broken)
    [result] = pipeline.run([Ticket(text="Mein Paket ist nicht angekommen, bitte helfen Sie mir.")], ["a"])
    assert result.failed_stages == ("encode", "sentiment", "classify", "retrieve", "macros")
    assert "sentiment" not in result.timings_ms  # skipped, never started
    assert result.macros == () and result.automations is not None  # the acknowledgement needs no embedding
    assert result.sentiment is None and result.topic.label is None and result.articles == ()
    assert result.answer_confidence is None  # unknown, not 0
    assert result.language.code == "de" and result.handoff.required and result.answer_withheld is False
    assert {"stage_failed:encode", "stage_failed:retrieve"} <= set(result.handoff.reasons)
    assert result.draft is not None and not result.draft.citations


@pytest.mark.slow
def test_a_required_stage_fails_the_batch(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing can stand in for a routing decision: the caller gets the error (the service records the failure).
    router = next(s for s in pipeline.stages if s.name == "route")

    def broken(_: object) -> None:
        raise RuntimeError("policy bug")

    monkeypatch.setattr(router, "run", broken)
    with pytest.raises(RuntimeError, match="policy bug"):
        pipeline.run([Ticket(text="Where is my parcel?")], ["a"])


def test_beside_stages_are_named_with_the_encoder(settings: Settings) -> None:
    [step] = [s for s in Pipeline(settings).steps if isinstance(s, Beside)]
    assert step.main.name == "encode" and [s.name for s in step.beside] == ["language", "entities"]
