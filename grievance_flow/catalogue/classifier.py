"""Keyword classifier: suggest categories (and their units) for a grievance text.

Scoring, chosen to be deterministic and explainable to a dispatcher:

* Every keyword found counts once (a category's name counts as one of its
  keywords), weighted by its length (a four-character
  phrase such as ``占道经营`` says more than a two-character one such as
  ``占道``). A hit inside a longer hit of another keyword does not count:
  ``施工扰民`` is evidence for night construction, not also for ``扰民`` noise.
* A category's *evidence* ``e`` is the sum of its hits' weights; a valid
  ``category_hint`` (the call-taker's choice) adds :data:`HINT_WEIGHT`.
* ``score = e / (e + 1) * sqrt(e / total evidence)``: the first factor
  saturates with more hits, the second punishes texts that point several ways.

So one keyword alone never reaches 0.6 (the default auto-dispatch threshold),
two keywords of one category and none of others always do, the hint alone
gives 0.5, and a text split between categories stays below the threshold and
goes to a human dispatcher.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from grievance_flow.catalogue.errors import RoutingError
from grievance_flow.catalogue.model import Catalogue
from grievance_flow.workflows.contracts import Candidate

HINT_WEIGHT = 1.0
"""Evidence a valid ``category_hint`` adds: as much as one two-character keyword."""

_SATURATION = 1.0
_MAX_WEIGHT = 1.4  # keeps a single keyword, however long, below 0.6


def normalise(text: str) -> str:
    """Fold a text for matching: NFKC (full-width → half-width), casefold, no whitespace.

    Whitespace is dropped because call-takers' transcripts often split Chinese
    phrases (``占 道``); it costs nothing for Chinese keywords.
    """
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def keyword_weight(keyword: str) -> float:
    """Weight of one keyword hit: 1.0 for two characters, +0.2 per extra, at most 1.4."""
    return min(_MAX_WEIGHT, 0.6 + 0.2 * len(keyword))


@dataclass(frozen=True)
class _Keyword:
    text: str  # normalised
    original: str  # as written in the catalogue, reported back in Candidate.matched
    category: str
    position: int  # index in the category's keyword list, to report hits in file order
    weight: float


class Classifier:
    """Suggests categories for grievance texts against one catalogue.

    Build it once per catalogue: the keyword table is prepared here, and
    :meth:`suggest` is called for every grievance.
    """

    def __init__(self, catalogue: Catalogue) -> None:
        """Prepare the keyword table of ``catalogue``."""
        self._catalogue = catalogue
        keywords: list[_Keyword] = []
        seen: set[tuple[str, str]] = set()
        for category in catalogue.categories.values():
            # The category's own name (占道经营, 燃气安全) is evidence too: call-takers
            # often write it, and it helps a catalogue whose lists are short.
            words = (*category.keywords, category.name)
            for position, word in enumerate(words):
                text = normalise(word)
                # "KTV" and "ktv" are one keyword once folded; count it once.
                if text and (category.code, text) not in seen:
                    seen.add((category.code, text))
                    weight = keyword_weight(text)
                    keywords.append(_Keyword(text, word, category.code, position, weight))
        # Longest first, so a hit can be checked against every longer hit
        # already seen; the rest of the key only makes the order total.
        keywords.sort(key=lambda k: (-len(k.text), k.text, k.category))
        self._keywords = tuple(keywords)

    def suggest(
        self,
        description: str,
        grid: str,
        *,
        category_hint: str | None = None,
        top: int = 3,
    ) -> list[Candidate]:
        """Return up to ``top`` categories with a score above zero, best first.

        Args:
            description: The citizen's words as filed.
            grid: The case's grid, used to route each candidate.
            category_hint: A category the hotline suggested; ignored if unknown.
            top: The maximum number of candidates.

        Returns:
            Candidates ordered by score, ties by code. ``unit`` is the routed
            unit's id, or None where routing fails (e.g. an unknown grid).

        Raises:
            ValueError: If ``top`` is below 1.
        """
        if top < 1:
            raise ValueError(f"top must be at least 1, got {top}")
        evidence: dict[str, float] = {}
        hits: dict[str, list[_Keyword]] = {}
        for keyword in self._hits(normalise(description)):
            evidence[keyword.category] = evidence.get(keyword.category, 0.0) + keyword.weight
            hits.setdefault(keyword.category, []).append(keyword)
        if category_hint is not None and category_hint in self._catalogue.categories:
            evidence[category_hint] = evidence.get(category_hint, 0.0) + HINT_WEIGHT
        total = sum(evidence.values())
        scores = {
            code: round(e / (e + _SATURATION) * math.sqrt(e / total), 4)
            for code, e in evidence.items()
        }
        ranked = sorted(scores, key=lambda code: (-scores[code], code))[:top]
        return [
            Candidate(
                category=code,
                name=self._catalogue.categories[code].name,
                score=scores[code],
                unit=self._route(code, grid),
                matched=[k.original for k in sorted(hits.get(code, []), key=lambda k: k.position)],
            )
            for code in ranked
        ]

    def _hits(self, text: str) -> list[_Keyword]:
        """Return the keywords found in ``text`` that are not part of a longer hit."""
        claimed: list[tuple[int, int]] = []  # spans of hits seen so far (all longer or equal)
        found: list[_Keyword] = []
        for keyword in self._keywords:
            if keyword.text not in text:
                continue
            size = len(keyword.text)
            spans = _occurrences(text, keyword.text)
            # It counts if one occurrence stands on its own, outside any
            # strictly longer hit.
            if any(
                not any(s <= start and end <= e and e - s > size for s, e in claimed)
                for start, end in spans
            ):
                found.append(keyword)
            claimed.extend(spans)
        return found

    def _route(self, code: str, grid: str) -> str | None:
        try:
            return self._catalogue.route(code, grid).id
        except RoutingError:
            return None


def _occurrences(text: str, word: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = text.find(word)
    while start != -1:
        spans.append((start, start + len(word)))
        start = text.find(word, start + 1)
    return spans
