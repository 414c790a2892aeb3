"""Several knowledge bases side by side: one retriever and one index per brand or tenant.

A helpdesk that serves several brands must never answer one brand's customer
with another brand's article, so KBs are not merged into one index with a
filter: each has its own index build (its own ``CURRENT``, reloaded on its own)
and a request names the one it belongs to. The encoder pass is still shared:
tickets for different KBs in one pipeline pass are encoded together and only
the search is split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from engine.errors import InvalidInput
from engine.normalise import answerable_text
from engine.retrieve.retriever import Retriever, SearchFilter
from engine.settings import KnowledgeBase
from engine.stage import TicketState
from engine.types import ArticleHit


def resolve_kb(kbs: dict[str, KnowledgeBase], name: str | None, field: str = "kb") -> KnowledgeBase:
    """The KB a request names (the first, default one when it names none); an unknown name is the caller's error."""
    key = next(iter(kbs)) if name is None else name
    if key not in kbs:
        raise InvalidInput(field, f"unknown knowledge base {name!r}; configured: {', '.join(kbs)}")
    return kbs[key]


class KnowledgeBases:
    """The retrieval stage: each ticket's best articles from its own knowledge base."""

    name = "retrieve"
    needs = ("encode",)
    required = False

    def __init__(
        self, kbs: dict[str, KnowledgeBase], retriever: Callable[[KnowledgeBase], Retriever], top_k: int
    ) -> None:
        """``kbs`` in settings order, the default KB first; ``retriever`` makes the retriever of one KB;
        ``top_k`` articles are returned per ticket."""
        if not kbs:
            raise ValueError("at least one knowledge base is needed")
        self._top_k = top_k
        self._kbs = dict(kbs)
        self._retrievers = {name: retriever(kb) for name, kb in kbs.items()}
        self.default = next(iter(kbs))

    def resolve(self, name: str | None, field: str = "kb") -> KnowledgeBase:
        return resolve_kb(self._kbs, name, field)

    def retriever(self, name: str | None = None) -> Retriever:
        return self._retrievers[self.resolve(name).name]

    def warm_up(self) -> None:
        for retriever in self._retrievers.values():
            retriever.warm_up()

    def meta(self) -> dict[str, dict[str, Any]]:
        """Each KB's index build in use (its ``meta.json``), by KB name."""
        return {name: retriever.index.meta for name, retriever in self._retrievers.items()}

    def reload(self) -> dict[str, dict[str, Any]]:
        """Load every KB's current build; returns each build's ``meta`` by KB name."""
        return {name: retriever.reload().meta for name, retriever in self._retrievers.items()}

    def run(self, batch: Sequence[TicketState]) -> None:
        """Searches with the ticket's text as well as its embedding, links and addresses left out (they share
        words with articles without asking anything), and with the topic head's probabilities as priors."""
        seconds = [s.second_embedding for s in batch]
        found = self.search(
            np.vstack([s.embedding for s in batch]),
            [s.language.code for s in batch],
            [s.kb.name for s in batch],
            self._top_k,
            topic_priors=[{a.label: a.probability for a in s.topic.alternatives} if s.topic else {} for s in batch],
            texts=[answerable_text(s.text) for s in batch],
            second_queries=None if any(v is None for v in seconds) else np.vstack(seconds),
        )
        for state, hits in zip(batch, found, strict=True):
            state.articles = tuple(hits)

    def search(
        self,
        queries: np.ndarray,
        languages: list[str],
        kb_names: list[str],
        top_k: int,
        search_filter: SearchFilter | None = None,
        topic_priors: list[dict[str, float]] | None = None,
        texts: list[str] | None = None,
        second_queries: np.ndarray | None = None,
    ) -> list[list[ArticleHit]]:
        """``Retriever.run`` for a batch whose queries may belong to different KBs (``kb_names[i]``, resolved)."""
        results: list[list[ArticleHit]] = [[] for _ in range(len(queries))]
        for name in dict.fromkeys(kb_names):
            rows = [i for i, kb in enumerate(kb_names) if kb == name]
            hits = self._retrievers[name].run(
                queries[rows],
                [languages[i] for i in rows],
                top_k,
                search_filter,
                [topic_priors[i] for i in rows] if topic_priors else None,
                [texts[i] for i in rows] if texts is not None else None,
                second_queries[rows] if second_queries is not None else None,
            )
            for i, found in zip(rows, hits, strict=True):
                results[i] = found
        return results
