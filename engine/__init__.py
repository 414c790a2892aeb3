"""Sift: triage and self-service knowledge for helpdesks, offline on CPU."""

__version__ = "0.1.0"
