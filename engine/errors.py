"""The small error hierarchy that the API and the CLI each map in exactly one place."""

from __future__ import annotations


class SiftError(Exception):
    """Base of every error Sift raises on purpose."""


class InvalidInput(SiftError):
    """The caller sent something we refuse; ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotReady(SiftError):
    """A resource the request needs (index, heads) has not been built yet."""


class ModelError(SiftError):
    """A model artefact is missing, corrupt or incompatible with this version."""
