"""The only package that writes the database."""

from engine.store.tickets import TicketStore

__all__ = ["TicketStore"]
