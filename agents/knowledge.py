"""Ranked search over an agent's knowledge articles.

PostgreSQL retrieves candidates with its full-text search (weighted title/body vectors,
`ts_rank_cd`); elsewhere BM25 over the agent's articles does the same job. Either way the
best candidates are then checked for how much of the question they actually cover, so a
single shared word never passes for an answer.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection

from agents.models import Agent, KnowledgeArticle
from agents.text import raw_words, terms

CANDIDATES = 5
MIN_COVERAGE = 0.5
# A question word in the article's title is strong evidence: less coverage suffices.
MIN_COVERAGE_WITH_TITLE_HIT = 0.3
MAX_SQLITE_ARTICLES = 2000


@dataclass(frozen=True)
class ScoredArticle:
    article: KnowledgeArticle
    score: float
    coverage: float


def _published(agent: Agent) -> list[KnowledgeArticle]:
    return list(
        KnowledgeArticle.objects.filter(agent=agent, is_published=True).order_by("id")[
            :MAX_SQLITE_ARTICLES
        ]
    )


def _postgres_candidates(agent: Agent, question: str) -> list[tuple[KnowledgeArticle, float]]:
    words = sorted(set(raw_words(question)))
    if not words:
        return []
    vector = SearchVector("title", weight="A", config="english") + SearchVector(
        "body", weight="B", config="english"
    )
    # OR the words: a visitor's question rarely uses every word an article does.
    query = SearchQuery(" | ".join(words), search_type="raw", config="english")
    rows = (
        KnowledgeArticle.objects.filter(agent=agent, is_published=True)
        .annotate(rank=SearchRank(vector, query, cover_density=True))
        .filter(rank__gt=0)
        .order_by("-rank", "id")[:CANDIDATES]
    )
    return [(row, float(row.rank)) for row in rows]


def _bm25_candidates(agent: Agent, question: str) -> list[tuple[KnowledgeArticle, float]]:
    query_terms = set(terms(question))
    articles = _published(agent)
    if not query_terms or not articles:
        return []
    docs = [Counter(terms(a.title) * 2 + terms(a.body)) for a in articles]
    avg_len = sum(sum(d.values()) for d in docs) / len(docs) or 1.0
    k1, b = 1.2, 0.75
    scored: list[tuple[KnowledgeArticle, float]] = []
    for article, doc in zip(articles, docs, strict=True):
        length = sum(doc.values())
        score = 0.0
        for term in query_terms:
            tf = doc.get(term, 0)
            if not tf:
                continue
            df = sum(1 for d in docs if term in d)
            idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
            score += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / avg_len))
        if score > 0:
            scored.append((article, score))
    scored.sort(key=lambda pair: (-pair[1], pair[0].pk))
    return scored[:CANDIDATES]


def coverage(question: str, article: KnowledgeArticle) -> float:
    """The share of the question's content words the article contains."""
    wanted = set(terms(question))
    if not wanted:
        return 0.0
    present = set(terms(article.title)) | set(terms(article.body))
    return len(wanted & present) / len(wanted)


def search_articles(*, agent: Agent, question: str) -> list[ScoredArticle]:
    """Articles that answer `question`, best first; empty when none covers it well enough."""
    if connection.vendor == "postgresql":
        candidates = _postgres_candidates(agent, question)
    else:
        candidates = _bm25_candidates(agent, question)
    results = [
        ScoredArticle(article=article, score=score, coverage=coverage(question, article))
        for article, score in candidates
    ]
    return [r for r in results if r.coverage >= _required_coverage(question, r.article)]


def _required_coverage(question: str, article: KnowledgeArticle) -> float:
    title_hit = set(terms(question)) & set(terms(article.title))
    return MIN_COVERAGE_WITH_TITLE_HIT if title_hit else MIN_COVERAGE


def best_passage(question: str, article: KnowledgeArticle, *, max_chars: int = 700) -> str:
    """The paragraph of the article that shares the most words with the question."""
    wanted = set(terms(question))
    paragraphs = [p.strip() for p in article.body.split("\n\n") if p.strip()] or [article.body]
    best = max(paragraphs, key=lambda p: (len(wanted & set(terms(p))), -paragraphs.index(p)))
    if len(best) > max_chars:
        best = best[:max_chars].rsplit(" ", 1)[0] + "…"
    return best
