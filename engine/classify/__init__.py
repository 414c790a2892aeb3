"""Stage 4b: topic and urgency from calibrated heads over the shared embedding."""

from engine.classify.classifier import HEAD_NAMES, TicketClassifier

__all__ = ["HEAD_NAMES", "TicketClassifier"]
