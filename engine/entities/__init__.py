"""Stage 6: entities and PII spans."""

from engine.entities.extractor import EntityExtractor
from engine.privacy.pii import find_pii, find_ticket_pii, redact

__all__ = ["EntityExtractor", "find_pii", "find_ticket_pii", "redact"]
