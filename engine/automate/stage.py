"""The automations stage: what a helpdesk sends or sets the moment a ticket is triaged.

An acknowledgement in the customer's language promising an answer by the routed queue's first-response target
(counted in that queue's business hours, shown in the customer's time zone), a notice when the desk is closed,
and tags. It reads the routing decision, so it runs after the router; it quotes nothing, so the answer policy
does not concern it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from engine.automate.acknowledge import KEYS, acknowledgement, available_languages, babel_locale, catalog, pick_language
from engine.automate.service_levels import ServiceLevels
from engine.automate.tags import suggested_tags
from engine.automate.timezones import customer_zone
from engine.draft.catalog import catalog as draft_catalog
from engine.draft.names import parse_name
from engine.draft.salutation import greeting
from engine.stage import TicketState
from engine.types import Automations


def ack_greeting(s: TicketState, language: str) -> str:
    """The greeting a draft in ``language`` would open with, in the polite register the acknowledgements are
    written in (a familiar "Hallo Erika," above "Ihre Nachricht" would contradict itself)."""
    return greeting(
        draft_catalog(language), parse_name(s.ticket.customer_name), s.ticket.customer_salutation, s.ticket.channel
    )


class Automator:
    name = "automate"
    needs: tuple[str, ...] = ()
    required = False

    def __init__(self, levels: ServiceLevels, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        """``clock``: now, for tickets without ``received_at`` (a test passes a fixed one)."""
        self._levels = levels
        self._clock = clock

    def warm_up(self) -> None:
        # A catalog missing a sentence would fail on the first ticket in its language; fail at start-up instead.
        for language in available_languages():
            missing = KEYS - set(catalog(language))
            if missing:
                raise ValueError(f"acknowledgement catalog {language}.yaml lacks {sorted(missing)}")

    def run(self, batch: Sequence[TicketState]) -> None:
        now = self._clock()
        done = [self.automate(s, now) for s in batch]
        for state, automations in zip(batch, done, strict=True):
            state.automations = automations

    def automate(self, s: TicketState, now: datetime) -> Automations:
        assert s.route is not None, "the route stage is required"
        received = s.ticket.received_at or now
        hours, schedule = self._levels.target(s.route.queue)
        zone = customer_zone(s.ticket.timezone, s.ticket.locale, self._levels.default_zone)
        due = schedule.add(received, hours).astimezone(zone)
        reopens = None if schedule.is_open(received) else schedule.next_open(received).astimezone(zone)
        language = pick_language(s.language.code, s.route.language)
        order = next((e.text for e in s.entities if e.label == "ORDER_NUMBER"), None)
        ack = acknowledgement(
            language=language,
            locale=babel_locale(language, s.ticket.locale),
            greeting=ack_greeting(s, language),
            order=order,
            due=due,
            reopens=reopens,
            agent=s.kb.agent_name,
        )
        tags = suggested_tags(
            topic=s.topic,
            urgency=s.route.urgency,
            language=s.language.code,
            risks=s.risk,
            entities=s.entities,
            channel=s.ticket.channel,
            out_of_hours=reopens is not None,
        )
        return Automations(
            acknowledgement=ack.text,
            language=language,
            first_response_due=due,
            timezone=zone.key,
            out_of_hours=reopens is not None,
            out_of_hours_notice=ack.out_of_hours_notice,
            tags=tags,
        )
