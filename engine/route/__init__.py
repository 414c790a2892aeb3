"""Stage 7: queue, agent language, priority and whether a person must take over."""

from engine.route.policy import RoutingPolicy, load_policy
from engine.route.router import RouteInput, Router

__all__ = ["RouteInput", "Router", "RoutingPolicy", "load_policy"]
