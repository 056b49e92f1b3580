"""Measure the keyword classifier's accuracy on a labelled set of grievance texts.

Loads the bundled catalogue and the labelled set (by default
``tests/catalogue/data/grievances.yaml``), runs ``Classifier.suggest`` on every
text (in grid-1: routing plays no part in the category), and prints top-1 and
top-3 accuracy overall and per group, the confusions that happen more than
once, and how many of the unclear texts (labelled ``null``) got a top score at
or above ``policy.auto_dispatch_confidence`` (they should not). Exits 1 if
top-1 accuracy is below ``--min-top1``. It measures accuracy only, never time.

    .venv/bin/python -m benchmarks.classifier_accuracy
    .venv/bin/python -m benchmarks.classifier_accuracy --set FILE --min-top1 0.7 --misses
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from grievance_flow.catalogue import Catalogue, Classifier, load_catalogue

DEFAULT_SET = Path(__file__).resolve().parent.parent / "tests/catalogue/data/grievances.yaml"
GRID = "grid-1"
NO_SUGGESTION = "(none)"


@dataclass(frozen=True)
class Sample:
    """One labelled text; ``code`` is None for a text too unclear to dispatch."""

    text: str
    code: str | None


@dataclass(frozen=True)
class Outcome:
    """What the classifier suggested for one sample."""

    sample: Sample
    ranked: tuple[str, ...]  # suggested codes, best first (at most three)
    top_score: float  # 0.0 when nothing was suggested

    @property
    def top1(self) -> bool:
        return bool(self.ranked) and self.ranked[0] == self.sample.code

    @property
    def top3(self) -> bool:
        return self.sample.code in self.ranked


@dataclass
class Tally:
    """Hits among a number of labelled samples."""

    total: int = 0
    top1: int = 0
    top3: int = 0

    def add(self, outcome: Outcome) -> None:
        self.total += 1
        self.top1 += outcome.top1
        self.top3 += outcome.top3

    @property
    def top1_rate(self) -> float:
        return self.top1 / self.total if self.total else 0.0

    @property
    def top3_rate(self) -> float:
        return self.top3 / self.total if self.total else 0.0


@dataclass
class Report:
    """The accuracy of one classifier on one labelled set."""

    threshold: float
    overall: Tally = field(default_factory=Tally)
    groups: dict[str, Tally] = field(default_factory=dict)
    confusions: Counter[tuple[str, str]] = field(default_factory=Counter)
    outcomes: list[Outcome] = field(default_factory=list)  # labelled texts only
    misses: list[Outcome] = field(default_factory=list)
    unclear: list[Outcome] = field(default_factory=list)

    @property
    def confident(self) -> list[Outcome]:
        """Labelled texts whose best suggestion reached the auto-dispatch confidence."""
        return [o for o in self.outcomes if o.top_score >= self.threshold]

    @property
    def confident_unclear(self) -> list[Outcome]:
        """Unclear texts whose best suggestion would have been auto-dispatched."""
        return [o for o in self.unclear if o.top_score >= self.threshold]


def load_set(path: Path, catalogue: Catalogue) -> list[Sample]:
    """Read a labelled set: a YAML mapping with ``items`` of ``{text, code}``.

    Raises:
        ValueError: If an item is malformed or names a code the catalogue lacks.
    """
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ValueError(f"{path}: expected a mapping with a list of items")
    samples: list[Sample] = []
    for index, item in enumerate(items):
        text = item.get("text") if isinstance(item, dict) else None
        code = item.get("code") if isinstance(item, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{path}: item {index} has no text")
        if code is not None and code not in catalogue.categories:
            raise ValueError(f"{path}: item {index} has unknown code {code!r}")
        samples.append(Sample(text, code))
    return samples


def evaluate(catalogue: Catalogue, samples: list[Sample]) -> Report:
    """Classify every sample and tally the results."""
    classifier = Classifier(catalogue)
    report = Report(threshold=catalogue.policy.auto_dispatch_confidence)
    for sample in samples:
        candidates = classifier.suggest(sample.text, GRID, top=3)
        outcome = Outcome(
            sample,
            tuple(c.category for c in candidates),
            candidates[0].score if candidates else 0.0,
        )
        if sample.code is None:
            report.unclear.append(outcome)
            continue
        report.outcomes.append(outcome)
        report.overall.add(outcome)
        group = catalogue.categories[sample.code].group
        report.groups.setdefault(group, Tally()).add(outcome)
        if not outcome.top1:
            report.misses.append(outcome)
            got = outcome.ranked[0] if outcome.ranked else NO_SUGGESTION
            report.confusions[(sample.code, got)] += 1
    return report


def format_report(report: Report, *, misses: bool = False) -> str:
    """Render a report as the lines the script prints."""

    def rates(tally: Tally) -> str:
        return (
            f"top-1 {tally.top1_rate:6.1%} ({tally.top1}/{tally.total})   "
            f"top-3 {tally.top3_rate:6.1%} ({tally.top3}/{tally.total})"
        )

    lines = [f"{'overall':10} {rates(report.overall)}", "by group:"]
    lines += [f"  {group:8} {rates(tally)}" for group, tally in sorted(report.groups.items())]
    repeated = [(pair, n) for pair, n in report.confusions.most_common() if n > 1]
    lines.append("confusions happening more than once (expected -> suggested first):")
    lines += [f"  {n} x {expected} -> {got}" for (expected, got), n in repeated] or ["  none"]
    confident = report.confident
    wrong = [o for o in confident if not o.top1]
    lines.append(
        f"labelled texts with a top score >= {report.threshold}: "
        f"{len(confident)}/{report.overall.total}, of which wrong: {len(wrong)}"
    )
    lines += [f"  {o.top_score:.2f} {o.ranked[0]}  {o.sample.text}" for o in wrong]
    confident = report.confident_unclear
    lines.append(
        f"unclear texts with a top score >= {report.threshold}: "
        f"{len(confident)}/{len(report.unclear)}"
    )
    lines += [f"  {o.top_score:.2f} {o.ranked[0]}  {o.sample.text}" for o in confident]
    if misses:
        lines.append("misses:")
        lines += [
            f"  {o.sample.code} -> {', '.join(o.ranked) or NO_SUGGESTION}  {o.sample.text}"
            for o in report.misses
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print the accuracy report; return 1 if top-1 accuracy is under the floor."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=DEFAULT_SET, help="labelled set (YAML)")
    parser.add_argument("--min-top1", type=float, default=0.7, help="fail under this top-1 rate")
    parser.add_argument("--misses", action="store_true", help="also list every top-1 miss")
    args = parser.parse_args(argv)
    catalogue = load_catalogue()
    report = evaluate(catalogue, load_set(args.set, catalogue))
    print(format_report(report, misses=args.misses))
    if report.overall.top1_rate < args.min_top1:
        print(f"FAIL: top-1 {report.overall.top1_rate:.1%} is under {args.min_top1:.0%}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
