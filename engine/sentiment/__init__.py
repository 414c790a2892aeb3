"""Stage 4a: how the customer feels, and where the conversation is heading."""

from engine.sentiment.head import SentimentAnalyser, trend_of

__all__ = ["SentimentAnalyser", "trend_of"]
