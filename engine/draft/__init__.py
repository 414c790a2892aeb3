"""Stage 8: a reply the agent can send after a read, grounded in the KB."""

from engine.draft.composer import DraftComposer

__all__ = ["DraftComposer"]
