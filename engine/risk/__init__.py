"""Stage 4c: risks that send a ticket to a person at once (security, safety, threats, legal, fraud, distress, human)."""

from engine.risk.detector import RiskDetector, RiskInput
from engine.risk.lexicon import Lexicon

__all__ = ["Lexicon", "RiskDetector", "RiskInput"]
