"""The gist stage: the ticket in the routed agent's language, for an agent who does not read the customer's.

It runs after routing, which picks the agent language. A gist helps an agent see what the ticket is about;
it is not the ticket, so the original goes beside it and nothing downstream reads the gist. Its translation
stays in memory only: it carries the customer's words.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.stage import TicketState
from engine.translate.base import UNAVAILABLE
from engine.translate.chain import TranslatorChain
from engine.types import Gist


class GistTranslator:
    name = "gist"
    needs: tuple[str, ...] = ()
    required = False

    def __init__(self, translator: TranslatorChain) -> None:
        self._translator = translator

    def warm_up(self) -> None:
        """Backends load their models on first use; a Sift that never sees a foreign ticket never loads one."""

    def run(self, batch: Sequence[TicketState]) -> None:
        gists = [self.gist(s) for s in batch]
        for state, gist in zip(batch, gists, strict=True):
            state.gist = gist

    def gist(self, state: TicketState) -> Gist | None:
        """None where the agent reads the ticket's language, or the ticket's language is not known."""
        source = state.language.code
        target = state.route.language if state.route is not None else None
        if target is None or source in ("und", target):
            return None
        if not self._translator.can_translate(source, target):
            return Gist(target, source, state.text, None, UNAVAILABLE)
        done = self._translator.translate_marked([state.text], source, target)
        return Gist(target, source, state.text, done.texts[0], done.backend)
