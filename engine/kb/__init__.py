"""The knowledge base as files: Markdown articles with front matter, their sections, and importers into that form.

Retrieval (``engine/retrieve``) indexes and searches what this package reads; nothing here loads a model.
"""

from engine.kb.articles import Article, Chunk, chunk_article, load_kb, parse_article

__all__ = ["Article", "Chunk", "chunk_article", "load_kb", "parse_article"]
