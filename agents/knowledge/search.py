"""Ranked search over an agent's knowledge articles.

BM25 over the agent's published articles picks the candidates; the best of them are then
checked for how much of the question they actually cover, so a single shared word never
passes for an answer.

The articles are tokenized once per process and change, not once per question: each
process keeps a `KnowledgeIndex` per agent (postings, term sets, each paragraph's terms),
tagged with the agent's knowledge stamp (security.stamps), read before the rows. Every
write to an article replaces the stamp (agents.knowledge.signals), and every search compares it
(one Redis round trip, no query), so an added, edited, unpublished or deleted article
reaches the very next answer in every process.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass

from agents.knowledge.text import terms
from agents.models import Agent, KnowledgeArticle
from security.stamps import MISSING, stamp_bump, stamp_ensure, stamps_read

logger = logging.getLogger(__name__)

CANDIDATES = 5
MIN_COVERAGE = 0.5
# A question word in the article's title is strong evidence: less coverage suffices.
MIN_COVERAGE_WITH_TITLE_HIT = 0.3
MAX_INDEXED_ARTICLES = 5000  # per agent, the first by id
BM25_K1, BM25_B = 1.2, 0.75
# Indexes kept per process (least recently used dropped first), and a safety net: every
# change replaces the stamp, but an index is rebuilt at least this often anyway.
MAX_INDEXED_AGENTS = 500
MAX_AGE_SECONDS = 600


@dataclass(frozen=True)
class IndexedArticle:
    article: KnowledgeArticle
    term_counts: dict[str, int]  # the title's terms count twice
    length: int
    present: frozenset[str]
    title_terms: frozenset[str]
    paragraphs: tuple[tuple[str, frozenset[str]], ...]


@dataclass(frozen=True)
class ScoredArticle:
    article: KnowledgeArticle
    score: float
    coverage: float
    paragraphs: tuple[tuple[str, frozenset[str]], ...] = ()

    def passage(self, question: str, *, max_chars: int = 700) -> str:
        """The paragraph that shares the most words with the question (see best_passage)."""
        paragraphs = self.paragraphs or _paragraphs(self.article.body)
        return _best_paragraph(set(terms(question)), paragraphs, max_chars=max_chars)


@dataclass(frozen=True)
class KnowledgeIndex:
    """One agent's published articles, tokenized: shared by every thread, read-only."""

    agent_pk: int
    agent_public_id: str
    stamp: str
    built_at: float
    articles: tuple[IndexedArticle, ...]
    postings: dict[str, tuple[tuple[int, int], ...]]  # term -> (article index, count)
    average_length: float

    def search(self, question: str) -> list[ScoredArticle]:
        wanted = set(terms(question))
        if not wanted or not self.articles:
            return []
        results = []
        for position, score in self._ranked(wanted):
            indexed = self.articles[position]
            covered = len(wanted & indexed.present) / len(wanted)
            required = MIN_COVERAGE_WITH_TITLE_HIT if wanted & indexed.title_terms else MIN_COVERAGE
            if covered >= required:
                results.append(ScoredArticle(indexed.article, score, covered, indexed.paragraphs))
        return results

    def _ranked(self, wanted: set[str]) -> list[tuple[int, float]]:
        """BM25 over the articles; the CANDIDATES best, ties broken by article id."""
        count = len(self.articles)
        scores: dict[int, float] = {}
        for term in wanted:
            postings = self.postings.get(term)
            if not postings:
                continue
            df = len(postings)
            idf = math.log(1 + (count - df + 0.5) / (df + 0.5))
            for position, tf in postings:
                length = self.articles[position].length
                norm = BM25_K1 * (1 - BM25_B + BM25_B * length / self.average_length)
                scores[position] = scores.get(position, 0.0) + idf * tf * (BM25_K1 + 1) / (
                    tf + norm
                )
        ranked = sorted(
            ((p, s) for p, s in scores.items() if s > 0),
            key=lambda pair: (-pair[1], self.articles[pair[0]].article.pk),
        )
        return ranked[:CANDIDATES]

    def fresh(self, stamp: str, agent: Agent) -> bool:
        return (
            stamp == self.stamp
            and stamp != MISSING
            and agent.public_id == self.agent_public_id
            and time.monotonic() - self.built_at < MAX_AGE_SECONDS
        )


def knowledge_stamp(agent_pk: int) -> str:
    return f"knowledge:{agent_pk}"


def knowledge_changed(*, agent_pk: int) -> None:
    """Every process rebuilds this agent's index before its next answer (call it after
    any write that bypasses the model's signals, such as `QuerySet.update`)."""
    stamp_bump(knowledge_stamp(agent_pk))


def _paragraphs(body: str) -> tuple[tuple[str, frozenset[str]], ...]:
    texts = [p.strip() for p in body.split("\n\n") if p.strip()] or [body]
    return tuple((text, frozenset(terms(text))) for text in texts)


def _indexed(article: KnowledgeArticle) -> IndexedArticle:
    title_terms = terms(article.title)
    counts = Counter(title_terms * 2 + terms(article.body))
    return IndexedArticle(
        article=article,
        term_counts=dict(counts),
        length=sum(counts.values()),
        present=frozenset(counts),
        title_terms=frozenset(title_terms),
        paragraphs=_paragraphs(article.body),
    )


def knowledge_index_build(agent: Agent, stamp: str) -> KnowledgeIndex:
    """Tokenize the agent's published articles (`stamp` read before them)."""
    rows = list(
        KnowledgeArticle.objects.filter(agent_id=agent.pk, is_published=True).order_by("id")[
            :MAX_INDEXED_ARTICLES
        ]
    )
    if len(rows) == MAX_INDEXED_ARTICLES:
        logger.warning("agent %s: only its first %s articles are searched", agent, len(rows))
    articles = tuple(_indexed(article) for article in rows)
    postings: dict[str, list[tuple[int, int]]] = {}
    for position, indexed in enumerate(articles):
        for term, count in indexed.term_counts.items():
            postings.setdefault(term, []).append((position, count))
    total = sum(a.length for a in articles)
    return KnowledgeIndex(
        agent_pk=agent.pk,
        agent_public_id=agent.public_id,
        stamp=stamp,
        built_at=time.monotonic(),
        articles=articles,
        postings={term: tuple(rows) for term, rows in postings.items()},
        average_length=(total / len(articles) if articles else 0.0) or 1.0,
    )


class KnowledgeIndexes:
    """A process's indexes by agent, least recently used dropped beyond `limit`.

    An index is used while the agent's stamp holds; a change anywhere replaces the stamp,
    never this memory, so every process finds out the same way: on its next search.
    """

    def __init__(self, limit: int = MAX_INDEXED_AGENTS) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, KnowledgeIndex] = OrderedDict()

    def index_for(self, agent: Agent) -> KnowledgeIndex:
        """The agent's index: the one held while its stamp holds, else rebuilt."""
        name = knowledge_stamp(agent.pk)
        (stamp,) = stamps_read([name])
        with self._lock:
            held = self._entries.get(agent.pk)
            if held is not None:
                self._entries.move_to_end(agent.pk)
        if held is not None and held.fresh(stamp, agent):
            return held
        if stamp == MISSING:  # give it a stamp before reading the rows it will tag
            stamp = stamp_ensure(name)
        index = knowledge_index_build(agent, stamp)
        with self._lock:
            self._entries[agent.pk] = index
            self._entries.move_to_end(agent.pk)
            while len(self._entries) > self.limit:
                self._entries.popitem(last=False)
        return index

    def held(self, agent_pk: int) -> KnowledgeIndex | None:
        with self._lock:
            return self._entries.get(agent_pk)

    def drop_all(self) -> None:
        with self._lock:
            self._entries.clear()


_process_indexes = KnowledgeIndexes()


def knowledge_index(agent: Agent) -> KnowledgeIndex:
    """The agent's index in this process (see KnowledgeIndexes)."""
    return _process_indexes.index_for(agent)


def knowledge_indexes_drop_local() -> None:
    """Forget this process's indexes (tests; the stamps stay as they are)."""
    _process_indexes.drop_all()


def search_articles(*, agent: Agent, question: str) -> list[ScoredArticle]:
    """Articles that answer `question`, best first; empty when none covers it well enough."""
    return knowledge_index(agent).search(question)


def coverage(question: str, article: KnowledgeArticle) -> float:
    """The share of the question's content words the article contains."""
    wanted = set(terms(question))
    if not wanted:
        return 0.0
    present = set(terms(article.title)) | set(terms(article.body))
    return len(wanted & present) / len(wanted)


def best_passage(question: str, article: KnowledgeArticle, *, max_chars: int = 700) -> str:
    """The paragraph of the article that shares the most words with the question."""
    return _best_paragraph(set(terms(question)), _paragraphs(article.body), max_chars=max_chars)


def _best_paragraph(
    wanted: set[str], paragraphs: tuple[tuple[str, frozenset[str]], ...], *, max_chars: int
) -> str:
    # The first of the paragraphs sharing the most words.
    best = max(enumerate(paragraphs), key=lambda item: (len(wanted & item[1][1]), -item[0]))[1][0]
    if len(best) > max_chars:
        best = best[:max_chars].rsplit(" ", 1)[0] + "…"
    return best
