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


class Conflict(SiftError):
    """The request clashes with what is stored (an external id already used for other content); ``field`` names where."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotReady(SiftError):
    """A resource the request needs (index, heads) has not been built yet; ``retry_after`` seconds is a fair wait."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unauthorized(SiftError):
    """The request carries no key, or one that is unknown or revoked."""


class Forbidden(SiftError):
    """The request's key exists but lacks the scope the endpoint needs."""


class RateLimited(SiftError):
    """The key has used its requests for now; ``retry_after`` seconds until the next is allowed."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ModelError(SiftError):
    """A model artefact is missing, corrupt or incompatible with this version."""


class NotFound(SiftError):
    """The thing the request names (an article) does not exist, or is not the caller's to see."""


class TranslationUnavailable(SiftError, ValueError):
    """No installed backend translates this pair (a ValueError too: what a translator always raised for one)."""
