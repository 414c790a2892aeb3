"""Stage 5: KB articles that answer the ticket, found by vector search across languages."""

from engine.retrieve.index import KBIndex, build_index
from engine.retrieve.knowledge_bases import KnowledgeBases
from engine.retrieve.retriever import Retriever

__all__ = ["KBIndex", "KnowledgeBases", "Retriever", "build_index"]
