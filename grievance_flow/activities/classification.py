"""The classifier activity: suggest categories for a newly reported grievance."""

from __future__ import annotations

from temporalio import activity

from grievance_flow.catalogue.classifier import Classifier
from grievance_flow.workflows.contracts import ActivityName, SuggestInput, Suggestion


class ClassificationActivities:
    """Keyword classification against the loaded catalogue."""

    def __init__(self, classifier: Classifier) -> None:
        self._classifier = classifier

    @activity.defn(name=ActivityName.SUGGEST.value)
    def suggest_category(self, request: SuggestInput) -> Suggestion:
        """Return the best categories for the text, best first, each with its route."""
        candidates = self._classifier.suggest(
            request.description, request.grid, category_hint=request.category_hint
        )
        return Suggestion(candidates=candidates)
