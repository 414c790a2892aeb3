from __future__ import annotations

import numpy as np
import pytest

from engine.draft.excerpt import choose, plain, render, units
from engine.models.registry import ModelRegistry
from engine.normalise import encoder_text
from engine.settings import REPO_ROOT

BODY = (
    "If you can't sign in, reset your password: tap **Sign in**, then **Forgot password?**. "
    "We'll email you a reset link that is valid for 60 minutes.\n\n"
    "1. Open the email and tap **Choose a new password**.\n"
    "2. Enter a new password with at least 10 characters.\n\n"
    "- Wait 5 minutes, then check your spam folder.\n"
    "- Only the newest link works.\n\n"
    "Resetting your password signs you out everywhere. Your cameras keep recording."
)


def test_units_keep_numbered_steps_together_and_split_sentences_and_bullets() -> None:
    found = units(BODY)
    assert [u.kind for u in found] == ["sentence", "sentence", "steps", "bullet", "bullet", "sentence", "sentence"]
    assert found[2].text.startswith("1. Open") and found[2].text.endswith("at least 10 characters.")
    assert all(u.text.lstrip("- ") in plain(BODY) for u in found)


def test_steps_come_with_their_lead_in_and_the_opening_sentence_in_order() -> None:
    section = units(BODY)
    scores = np.array([0.1, 0.2, 0.9, 0.3, 0.3, 0.1, 0.1])
    chosen = choose(section, scores, limit=420)
    assert chosen == [0, 1, 2]
    assert render(section, chosen).startswith("If you can't sign in, reset your password: tap Sign in")


def test_without_scores_the_section_is_quoted_from_its_start_within_the_limit() -> None:
    section = units(BODY)
    assert choose(section, None, limit=150)[0] == 0 and len(choose(section, None, limit=150)) < len(section)


@pytest.mark.slow
def test_the_sentence_that_answers_is_chosen_with_the_service_encoder(registry: ModelRegistry) -> None:
    body = (REPO_ROOT / "kb_content" / "account-reset-password.md").read_text(encoding="utf-8")
    section_text = body.split("## Other sign-in problems")[1].split("Still stuck?")[0]
    section = units(section_text)
    question = "It keeps saying too many attempts and I can't sign in"
    ticket = registry.encoder.encode_queries([encoder_text(question)])[0]
    scores = registry.encoder.encode_passages([u.text for u in section]) @ ticket
    quoted = render(section, choose(section, scores, limit=300))
    assert "Too many attempts" in quoted and "Apple or Google" not in quoted
