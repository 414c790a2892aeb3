"""Turns predictions into a routing decision with every handoff reason spelled out.

Each reason has a stable code (for dashboards and outside rules) and a sentence
(for the agent who picks the ticket up): a handoff is never silent.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from engine.normalise import has_words
from engine.route.policy import RoutingPolicy
from engine.stage import EarlierContact, TicketState
from engine.translate.base import KB, ORIGINAL
from engine.types import (
    RISK_KINDS,
    URGENCY_LEVELS,
    Draft,
    Handoff,
    Prediction,
    RiskSignal,
    Route,
)

# What the agent who picks a risk ticket up should know first; the kind is the reason code.
RISK_SENTENCES = {
    "security_incident": "possible account or device takeover: secure the account before anything else",
    "safety_hazard": "the customer reports a physical hazard (heat, smoke, sparks, shock, a swallowed battery): "
    "give safety advice first",
    "threat": "the message threatens staff or property: follow the threat procedure",
    "legal_request": "a legal or data-protection demand (lawyer, court, regulator, GDPR request): deadlines may run",
    "fraud": "the customer reports charges or orders they did not make",
    "distress": "the customer may be at risk of harming themselves: answer personally, with care, and share "
    "where to get help",
    "human_requested": "the customer asked for a person",
}


# Every rule's stable code, for dashboards, outside rules and `sift policy simulate`; the decision lists those that fired.
ROUTING_RULES = {
    "urgency_raised_by_risk": "a risk's min_urgency raised the urgency the priority follows",
    "queue_by_risk": "a risk's queue took the ticket",
    "queue_by_urgency": "the urgency's queue (urgency_queues) took the ticket",
    "queue_by_topic": "the topic's queue (queues) took the ticket",
    "queue_default": "no rule named a queue: default_queue",
    "priority_by_urgency": "the priority of the urgency (priorities)",
    "priority_by_tier": "the customer's tier raised the priority a step (priority_tiers)",
    "priority_by_waiting": "the wait since received_at raised the priority (priority_waiting_hours)",
    "agent_language": "agents speak the customer's language (agent_languages)",
    "language_equivalent": "agents of a language the customer reads (language_equivalents)",
    "language_fallback": "no agents speak it: fallback_language",
    "skill_product": "products the ticket names are asked of the agent (skills product:NAME)",
}
HANDOFF_RULES = {
    **{kind: RISK_SENTENCES[kind] for kind in RISK_KINDS},
    "stage_failed:<stage>": "a stage failed; its output is missing",
    "no_question": "no words to answer, only links, addresses or numbers",
    "out_of_scope": "the topic head rejected the ticket, or its confidence is below thresholds.out_of_scope",
    "low_topic_confidence": "topic confidence below thresholds.topic_confidence (or thresholds.per_topic)",
    "sensitive_topic": "a topic of always_handoff_topics",
    "no_confident_article": "no article reaches thresholds.answer_confidence",
    "pii_present": "PII of handoff_pii in the ticket",
    "urgent_negative": "escalate_urgency with sentiment below escalate_sentiment_below",
    "sentiment_worsening": "the customer's mood worsened over the conversation",
    "vip_tier": "a customer tier of handoff_tiers",
    "repeated_contact": "the same customer wrote within repeated_contact.within_days (about the same topic)",
    "language_unknown": "too short to tell the language",
    "unsupported_language": "no agents speak the customer's language",
    "draft_needs_translation": "the draft is not in the customer's language",
    "draft_machine_translated": "the draft was machine-translated and handoff_machine_translated is on",
}


def _rank(urgency: str | None) -> int:
    """Position on the urgency scale; -1 for none or a label the scale does not know."""
    return URGENCY_LEVELS.index(urgency) if urgency in URGENCY_LEVELS else -1


def reported_urgency(urgency: Prediction | None, routed: str | None, risks: tuple[RiskSignal, ...]) -> Prediction | None:
    """The urgency to report: the head's, or the level a risk raised it to in routing.

    A raised label carries the confidence of the most confident risk and keeps the head's
    probabilities as its alternatives, so the model's own reading stays visible. A level the head was not
    trained on (a helpdesk whose scale is low/medium/high has no ``urgent``) is not reported: the field stays
    on the helpdesk's own scale, and the raise shows in the route's priority and reasons.
    """
    head_label = urgency.label if urgency is not None and urgency.label else "normal"  # as the router reads it
    if not risks or routed is None or routed == head_label:
        return urgency
    if urgency is not None and urgency.alternatives and routed not in {a.label for a in urgency.alternatives}:
        return urgency
    version = urgency.model_version if urgency is not None else None
    return Prediction(
        label=routed,
        confidence=max(s.confidence for s in risks),
        alternatives=urgency.alternatives if urgency is not None else (),
        model_version=f"{version or 'none'}+risk-policy",
    )


class Router:
    """The routing stage: queue, priority, agent language and every reason a person must take over."""

    name = "route"
    needs: tuple[str, ...] = ()
    required = True

    def __init__(self, policy: RoutingPolicy, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        """``clock`` is when the decision is made: waits and the repeated-contact window are measured from it."""
        self._policy = policy
        self._answer_threshold = policy.thresholds.answer_confidence
        self._clock = clock

    def warm_up(self) -> None:
        """The policy is loaded and validated by the constructor's caller."""

    def run(self, batch: Sequence[TicketState]) -> None:
        """Reads every stage before it, and which of them failed: a missing output is a reason, never a guess."""
        for state in batch:
            state.route, state.handoff = self.decide(state)
            state.answer_withheld = self.withholds_answer(state.handoff)

    def withholds_answer(self, handoff: Handoff) -> bool:
        """Whether no article may be quoted for a ticket handed off for these reasons.

        A risk is never answered from the KB, whatever an older or edited policy file lists; the policy's
        ``withhold_answer`` adds the reasons a team chooses (out of scope, no question, by default).
        """
        return any(reason in RISK_KINDS or reason in self._policy.withhold_answer for reason in handoff.reasons)

    @staticmethod
    def with_draft(handoff: Handoff, draft: Draft | None, machine_translated_hands_off: bool = True) -> Handoff:
        """The handoff once the draft is written (after routing, which decides whether it may quote).

        ``None`` is a draft stage that failed; a draft not in the customer's language needs a person too, and so
        does a machine-translated one where the policy says so (``handoff_machine_translated``).
        """
        if draft is None:
            reason = ("stage_failed:draft", "the draft stage failed; its output is missing")
        elif draft.needs_translation:
            reason = ("draft_needs_translation", "the draft is not in the customer's language")
        elif machine_translated_hands_off and draft.translation not in (ORIGINAL, KB):
            reason = (
                "draft_machine_translated",
                f"the draft was machine-translated ({draft.translation}): check it before it is sent",
            )
        else:
            return handoff
        return Handoff(True, (*handoff.reasons, reason[0]), (*handoff.details, reason[1]))

    def _agent_language(self, code: str) -> tuple[str, str]:
        """The agents' language and the rule that chose it (agent_language, language_equivalent, language_fallback)."""
        p = self._policy
        if code in p.agent_languages:
            return code, "agent_language"
        if p.language_equivalents.get(code) in p.agent_languages:
            return p.language_equivalents[code], "language_equivalent"
        return p.fallback_language, "language_fallback"

    def _repeated(self, x: TicketState, topic: str | None, now: datetime) -> EarlierContact | None:
        """The latest earlier ticket of this customer inside the policy's window (about the same topic if asked)."""
        rule = self._policy.repeated_contact
        if rule is None or not x.earlier:
            return None
        since = now - timedelta(days=rule.within_days)
        matching = [
            e
            for e in x.earlier
            if datetime.fromisoformat(e.received_at) >= since and (not rule.same_topic or (topic and e.topic == topic))
        ]
        return max(matching, key=lambda e: e.received_at, default=None)

    def _waited_hours(self, x: TicketState, now: datetime) -> float:
        """Hours since the helpdesk received the ticket (``received_at``); 0 when it does not say (it came in now)."""
        if x.ticket.received_at is None:
            return 0.0
        return max(0.0, (now - x.ticket.received_at).total_seconds() / 3600)

    def decide(self, x: TicketState) -> tuple[Route, Handoff]:
        """Every reason is listed, not the first: the agent sees all that made the ticket theirs.

        ``Route.rules`` and ``Handoff.reasons`` carry the stable codes of every rule that fired (ROUTING_RULES,
        HANDOFF_RULES), the prose beside them the values that made it fire.
        """
        p = self._policy
        now = self._clock()
        tier = x.ticket.customer_tier.lower() if x.ticket.customer_tier else None
        topic = x.topic.label if x.topic else None
        urgency = x.urgency.label if x.urgency and x.urgency.label else "normal"
        why: list[str] = []
        rules: list[str] = []

        def fired(rule: str, sentence: str) -> None:
            rules.append(rule)
            why.append(sentence)

        # The risk whose policy asks for the most urgency leads (then the most confident): a threat that
        # also asks for a person goes to the threat queue.
        routed = sorted(
            (s for s in x.risk if s.kind in p.risk),
            key=lambda s: (-_rank(p.risk[s.kind].min_urgency), -s.confidence),
        )
        for signal in routed:
            least = p.risk[signal.kind].min_urgency
            if least is not None and _rank(least) > _rank(urgency):
                fired("urgency_raised_by_risk", f"risk {signal.kind} raises urgency {urgency} -> {least}")
                urgency = least
        lead = next((s for s in routed if p.risk[s.kind].queue), None)
        if lead is not None:
            queue = p.risk[lead.kind].queue or p.default_queue
            fired("queue_by_risk", f"risk {lead.kind} -> queue {queue}")
        elif urgency in p.urgency_queues:
            queue = p.urgency_queues[urgency]
            fired("queue_by_urgency", f"urgency {urgency} -> queue {queue}")
        elif topic and topic in p.queues:
            queue = p.queues[topic]
            fired("queue_by_topic", f"topic {topic} -> queue {queue}")
        else:
            queue = p.default_queue
            fired("queue_default", f"no queue for topic {topic!r} -> default queue {queue}")
        levels = sorted(set(p.priorities.values()))
        priority = p.priorities.get(urgency, p.priorities.get("normal", "P3"))
        fired("priority_by_urgency", f"urgency {urgency} -> priority {priority}")
        if tier and tier in p.priority_tiers and levels.index(priority) > 0:
            priority = levels[levels.index(priority) - 1]
            fired("priority_by_tier", f"customer tier {tier} -> raised to {priority}")
        waited = self._waited_hours(x, now)
        steps = sum(waited >= hours for hours in p.priority_waiting_hours)
        if steps and levels.index(priority) > 0:
            priority = levels[max(0, levels.index(priority) - steps)]
            fired("priority_by_waiting", f"waiting {waited:.0f} h -> raised to {priority}")
        agent_language, language_rule = self._agent_language(x.language.code)
        fired(language_rule, f"language {x.language.code} -> agents speaking {agent_language}")
        products = list(dict.fromkeys(s.text.lower() for s in x.entities if s.label == "PRODUCT"))
        if products:
            fired("skill_product", f"products {', '.join(products)} -> agents who know them")
        skills = (
            [f"lang:{agent_language}"]
            + ([f"topic:{topic}"] if topic else [])
            + [f"product:{name}" for name in products]
        )

        reasons: list[tuple[str, str]] = [
            (s.kind, f"{RISK_SENTENCES[s.kind]} ({s.confidence:.2f}; {', '.join(s.evidence)})") for s in x.risk
        ]
        for stage in x.failed:
            reasons.append((f"stage_failed:{stage}", f"the {stage} stage failed; its output is missing"))
        if not has_words(x.text):
            reasons.append(("no_question", "the ticket holds no words to answer, only links, addresses or numbers"))
        cut = p.thresholds.topic_threshold(topic)
        if x.topic is not None and x.topic.label is None:
            reasons.append(("out_of_scope", f"the ticket matches no known topic (best {x.topic.confidence:.2f})"))
        elif x.topic is not None and x.topic.confidence < cut:
            reasons.append(("low_topic_confidence", f"topic {topic!r} at {x.topic.confidence:.2f} is below {cut:.2f}"))
        if topic in p.always_handoff_topics:
            reasons.append(("sensitive_topic", f"{topic} requests are always handled by a person"))
        if not x.articles:
            reasons.append(("no_confident_article", "no KB article was found for the ticket"))
        elif x.articles[0].answer_confidence < self._answer_threshold:
            top = x.articles[0]
            reasons.append(
                ("no_confident_article", f"no KB article is likely to answer: the best, {top.id!r}, answers with "
                 f"probability {top.answer_confidence:.2f} < {self._answer_threshold:.2f}")
            )
        sensitive = sorted({s.label for s in x.pii if s.label in p.handoff_pii})
        if sensitive:
            reasons.append(("pii_present", f"the ticket contains {', '.join(sensitive)}; redact before replying"))
        if (
            urgency in p.escalate_urgency
            and x.sentiment is not None
            and x.sentiment.score < p.escalate_sentiment_below
        ):
            reasons.append(("urgent_negative", f"{urgency} urgency from an unhappy customer ({x.sentiment.score:+.2f})"))
        if x.sentiment is not None and x.sentiment.trend == "worsening":
            reasons.append(("sentiment_worsening", "the customer's mood has worsened over the conversation"))
        if tier and tier in p.handoff_tiers:
            reasons.append(("vip_tier", f"customers of tier {tier} are always answered by a person"))
        earlier = self._repeated(x, topic, now)
        if earlier is not None:
            about = f"about {topic} " if p.repeated_contact and p.repeated_contact.same_topic else ""
            reasons.append(
                ("repeated_contact", f"the customer wrote {about}before, on {earlier.received_at[:10]} "
                 f"(ticket {earlier.ticket_id}): the first answer did not settle it")
            )
        if x.language.code == "und":
            reasons.append(("language_unknown", "the text is too short to tell its language"))
        elif language_rule == "language_fallback":
            reasons.append(("unsupported_language", f"no agents listed for {x.language.code!r}; routed to {agent_language}"))
        return (
            Route(
                queue=queue,
                language=agent_language,
                priority=priority,
                skills=tuple(skills),
                reasons=tuple(why),
                rules=tuple(rules),
                urgency=urgency,
            ),
            Handoff(required=bool(reasons), reasons=tuple(c for c, _ in reasons), details=tuple(m for _, m in reasons)),
        )
