"""Stage 5: KB articles that answer the ticket, found by vector search across languages."""

from engine.retrieve.index import KBIndex, build_index
from engine.retrieve.kb import Article, Chunk, load_kb
from engine.retrieve.knowledge_bases import KnowledgeBases
from engine.retrieve.retriever import Retriever

__all__ = ["Article", "Chunk", "KBIndex", "KnowledgeBases", "Retriever", "build_index", "load_kb"]
