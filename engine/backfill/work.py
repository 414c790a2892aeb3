"""One batch of rows through a ``TriageService``: the code every backfill runner calls, in one process or on Ray.

Keeping this the only place that turns rows into output lines is what makes a Ray backfill's results the
single-process command's results: the same tickets, the same service (ticket log included), the same JSON.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from engine.backfill.rows import Row

if TYPE_CHECKING:
    from engine.service import TriageService


def triage_rows(service: TriageService, rows: Sequence[Row]) -> list[str]:
    """One JSON line per row, in order: ``{"row", "ticket_id", ...the result}`` or ``{..., "error"}`` if refused.

    The triage runs as one ``service.triage`` call, so a row the service refuses (a text over
    ``max_text_chars``) fails the batch with the service's own message, as `sift triage-file` always did.
    """
    from engine.result_shape import to_jsonable
    from engine.types import Ticket

    records: dict[int, dict[str, Any]] = {}
    tickets: list[Ticket] = []
    positions: list[int] = []
    for i, row in enumerate(rows):
        if row.error is not None:
            records[i] = {"row": row.row, "ticket_id": row.ticket_id, "error": row.error}
            continue
        tickets.append(Ticket(text=row.text, subject=row.subject, kb=row.kb, customer_id=row.customer_id))
        positions.append(i)
    for i, result in zip(positions, service.triage(tickets) if tickets else [], strict=True):
        records[i] = {"row": rows[i].row, "ticket_id": rows[i].ticket_id, **to_jsonable(result)}
    return [json.dumps(records[i], ensure_ascii=False) for i in range(len(rows))]


class LocalRunner:
    """The single-process runner: this process's service, one batch after another.

    The service (models, ticket log) opens on the first batch: a finished output costs no model load.
    """

    def __init__(self, open_service: Callable[[], AbstractContextManager[TriageService]]) -> None:
        self.open_service = open_service

    def run(self, batches: Iterator[list[Row]]) -> Iterator[list[str]]:
        first = next(batches, None)
        if first is None:
            return
        with self.open_service() as service:
            for batch in itertools.chain([first], batches):
                yield triage_rows(service, batch)
