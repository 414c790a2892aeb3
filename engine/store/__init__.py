"""The only package that writes the database."""

from engine.store.feedback import Feedback, FeedbackRecord, FeedbackStore
from engine.store.tickets import TicketStore

__all__ = ["Feedback", "FeedbackRecord", "FeedbackStore", "TicketStore"]
