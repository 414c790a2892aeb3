"""Automations that come with triage: the acknowledgement with the expected answer time, out-of-hours notice, tags."""

from engine.automate.service_levels import ServiceLevels, load_service_levels
from engine.automate.stage import Automator

__all__ = ["Automator", "ServiceLevels", "load_service_levels"]
