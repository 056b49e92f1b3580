"""The intake activity: suggest categories, record the policy, find possible duplicates."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Engine
from temporalio import activity

from grievance_flow.catalogue.classifier import Classifier
from grievance_flow.catalogue.model import Catalogue
from grievance_flow.store.queries import possible_duplicates
from grievance_flow.workflows.contracts import (
    ActivityName,
    Candidate,
    CasePolicy,
    SuggestInput,
    Suggestion,
)

DUPLICATE_WINDOW = timedelta(hours=72)
"""How far back an open case of the same kind in the same grid counts as a possible duplicate."""


class ClassificationActivities:
    """Keyword classification against the loaded catalogue, plus what intake needs with it."""

    def __init__(self, catalogue: Catalogue, engine: Engine) -> None:
        self._catalogue = catalogue
        self._classifier = Classifier(catalogue)
        self._engine = engine

    @activity.defn(name=ActivityName.SUGGEST.value)
    def suggest_category(self, request: SuggestInput) -> Suggestion:
        """Best categories for the text (best first, each routed), the policy, and duplicates."""
        candidates = [
            self._enrich(candidate)
            for candidate in self._classifier.suggest(
                request.description, request.grid, category_hint=request.category_hint
            )
        ]
        policy = self._catalogue.policy
        duplicates: list[str] = []
        if candidates and request.filed_at is not None:
            duplicates = possible_duplicates(
                self._engine,
                grid=request.grid,
                category=candidates[0].category,
                since=request.filed_at - DUPLICATE_WINDOW,
                exclude=request.case_id,
            )
        return Suggestion(
            candidates=candidates,
            # Recorded in history with the suggestion: the case keeps the limits
            # it was filed under even if the catalogue's policy changes later.
            policy=CasePolicy(
                max_returns=policy.max_returns,
                max_reopens=policy.max_reopens,
                auto_dispatch_confidence=policy.auto_dispatch_confidence,
            ),
            possible_duplicates=duplicates,
        )

    def _enrich(self, candidate: Candidate) -> Candidate:
        category = self._catalogue.categories.get(candidate.category)
        unit = self._catalogue.units.get(candidate.unit) if candidate.unit else None
        return replace(
            candidate,
            auto_dispatch=bool(category and category.auto_dispatch),
            tier=unit.tier.value if unit else None,
        )
