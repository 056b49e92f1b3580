"""The clocks benchmark's catalogue, and when its cases' classify clocks fall due.

Two ways to set the clocks (``benchmarks.clocks``):

* **Same clock** (:func:`write_catalogue`): every SLA class's classify clock is
  M minutes, so a case falls due M minutes after it was filed, and the spread
  of due times is the filing phase's.
* **Spread** (:class:`SpreadPlan`, :func:`write_spread_catalogue`): the
  catalogue's categories are replaced by one category per clock length, from
  ``step`` seconds up in steps of ``step`` seconds, each with an SLA class of
  its own whose classify clock is that long. When the benchmark files case
  ``i`` of ``N``, ``t`` seconds after filing began, it gives the case the
  ``category_hint`` whose clock is ``target(i) − t − lag`` (rounded to a step),
  where ``target(i) = first_due + S·i/N`` and ``lag`` is the recent filing
  latency (the clock starts when the case enters classify, just before the
  filing is answered). The classifier suggests the hinted
  category (nothing in the texts matches any other), the classify clock runs by
  the suggested category's class, so case ``i`` falls due at ``target(i)``
  whatever the filing speed: the N due times are spread evenly over S seconds,
  ``first_due`` after filing began. ``first_due`` is the expected filing time
  F divided by ``warn_at`` (0.8): a case warns at ``t + 0.8·(target − t) ≥
  0.8·first_due = F``, so no step fires before filing is expected to end. A
  case filed after its target (filing overran F by more than the spread) gets
  the shortest clock, one step, and is counted as clamped.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from grievance_flow.catalogue.classifier import Classifier
from grievance_flow.catalogue.loader import parse_catalogue, read_catalogue_data

CATEGORY_PREFIX = "bench.clock-"
"""Code prefix of the spread catalogue's categories: ``bench.clock-00042`` is a 42 s clock."""

FIELDS = ("warn_at", "due_at", "escalate_at")
"""The planned times of a clock, in the order they fall."""


def duration(seconds: float) -> dict[str, int]:
    """A catalogue duration of ``seconds``: whole minutes where it is, else seconds."""
    whole = round(seconds)
    if whole < 1:
        raise ValueError(f"a clock must be at least one second, got {seconds!r}")
    return {"minutes": whole // 60} if whole % 60 == 0 else {"seconds": whole}


def _base(escalate_seconds: float) -> dict[str, Any]:
    """The bundled catalogue with ``escalate_after`` set and auto-dispatch off."""
    data, _ = read_catalogue_data()
    data["policy"]["escalate_after"] = duration(escalate_seconds)
    for category in data["categories"]:
        category["auto_dispatch"] = False
    return dict(data)


def _write(path: Path, data: Mapping[str, Any]) -> None:
    path.write_text(yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False), "utf-8")


def write_catalogue(path: Path, classify_minutes: float, escalate_minutes: float) -> None:
    """The bundled catalogue with every classify clock and ``escalate_after`` in minutes.

    Auto-dispatch is switched off, so a confident suggestion does not take a case
    past classify: every case waits there for a dispatcher who never comes.
    """
    data = _base(escalate_minutes * 60)
    for sla_class in data["sla_classes"].values():
        sla_class["classify"] = duration(classify_minutes * 60)
    _write(path, data)


@dataclass(frozen=True)
class SpreadPlan:
    """When each of ``cases`` cases falls due: evenly over ``spread`` s, from ``first_due``.

    Times are seconds after filing began. ``filing`` is the expected length of
    the filing phase; ``warn_at`` the catalogue's warning fraction.
    """

    cases: int
    spread: float
    filing: float
    warn_at: float = 0.8
    step: int = 1

    @property
    def first_due(self) -> float:
        """When the first case falls due: late enough that its warning comes after filing."""
        return self.filing / self.warn_at

    @property
    def longest(self) -> int:
        """The longest clock any case can need (seconds, a whole number of steps)."""
        return math.ceil((self.first_due + self.spread) / self.step) * self.step

    def clocks(self) -> range:
        """Every clock length the catalogue offers, in seconds."""
        return range(self.step, self.longest + 1, self.step)

    def target(self, number: int) -> float:
        """When case ``number`` (from 0) should fall due."""
        return self.first_due + self.spread * number / max(self.cases, 1)

    def clock_for(self, number: int, elapsed: float) -> tuple[int, bool]:
        """The clock for case ``number`` filed ``elapsed`` s in, and whether it was clamped."""
        wanted = (self.target(number) - elapsed) / self.step
        steps = max(1, min(round(wanted), self.longest // self.step))
        return steps * self.step, wanted < 0.5

    @staticmethod
    def category(clock: int) -> str:
        """The category code whose classify clock is ``clock`` seconds."""
        return f"{CATEGORY_PREFIX}{clock:05d}"


def write_spread_catalogue(
    path: Path, plan: SpreadPlan, escalate_minutes: float, texts: list[str], grid: str
) -> int:
    """Write the spread catalogue for ``plan``; returns how many categories it has.

    Units, policy and the bundled SLA classes are kept; the categories are one
    per clock of :meth:`SpreadPlan.clocks`, each territorial at tier D (the
    case's own grid) with its own SLA class (the bundled ``complaint`` class
    with the classify clock changed) and no keywords. Checks with the real
    classifier that each of ``texts`` filed in ``grid`` with a hint is suggested
    the hinted category first.
    """
    data = _base(escalate_minutes * 60)
    if abs(float(data["policy"]["warn_at"]) - plan.warn_at) > 1e-9:
        raise ValueError(f"the plan assumes warn_at {plan.warn_at}, the catalogue has another")
    template = data["sla_classes"]["complaint"]
    categories: list[dict[str, Any]] = []
    for clock in plan.clocks():
        sla = f"clock-{clock:05d}"
        data["sla_classes"][sla] = {**template, "classify": duration(clock)}
        categories.append(
            {
                "code": plan.category(clock),
                # The name is a keyword too: one no grievance text contains.
                "name": f"基准计时{clock:05d}秒",
                "group": "基准",
                "tier": "D",
                "owner": "territorial",
                "sla": sla,
                "auto_dispatch": False,
            }
        )
    data["categories"] = categories
    classifier = Classifier(parse_catalogue(data, source=str(path)))
    for hint in {plan.category(plan.step), plan.category(plan.longest)}:
        for text in texts:
            top = classifier.suggest(text, grid, category_hint=hint, top=1)
            if not top or top[0].category != hint:
                raise ValueError(f"{text!r} is not suggested its hint {hint}: {top}")
    _write(path, data)
    return len(categories)


def spread_lines(planned: Mapping[str, Mapping[str, datetime]], filed: datetime) -> list[str]:
    """How the planned times fell, relative to the end of filing ``filed`` (seconds).

    One line per field: min / p50 / max, and the most cases planned within one
    second (how bursty the load is).
    """
    lines = [
        f"{'planned (s after filing ended)':<32} {'min':>8} {'p50':>8} {'max':>8} {'busiest':>8}"
    ]
    for name in FIELDS:
        offsets = sorted((clock[name] - filed).total_seconds() for clock in planned.values())
        if not offsets:
            lines.append(f"{name:<32} {'-':>8}")
            continue
        busiest = max(Counter(math.floor(offset) for offset in offsets).values())
        lines.append(
            f"{name:<32} {offsets[0]:8.1f} {offsets[len(offsets) // 2]:8.1f} "
            f"{offsets[-1]:8.1f} {busiest:>6}/s"
        )
    return lines
