"""The PII stage: personal data in every field the customer wrote, the history too.

Routing reads it (card numbers, passwords and IDs hand the ticket to a person) and the service masks it
before anything is stored; the entity stage reads only the normalised text, so this one reads the ticket.
"""

from __future__ import annotations

from collections.abc import Sequence

from engine.privacy.pii import find_ticket_pii
from engine.stage import TicketState


class PiiFinder:
    name = "pii"
    needs: tuple[str, ...] = ()
    required = False

    def warm_up(self) -> None:
        """Patterns compile at import; nothing to load."""

    def run(self, batch: Sequence[TicketState]) -> None:
        found = [find_ticket_pii(s.ticket) for s in batch]
        for state, pii in zip(batch, found, strict=True):
            state.pii = pii
