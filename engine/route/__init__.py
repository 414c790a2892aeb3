"""Stage 7: queue, agent language, priority and whether a person must take over."""

from engine.route.policy import RoutingPolicy, Thresholds, load_policy
from engine.route.router import Router, reported_urgency

__all__ = ["Router", "RoutingPolicy", "Thresholds", "load_policy", "reported_urgency"]
