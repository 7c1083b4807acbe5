"""Figures, their baselines and targets, and the table ``make bench`` prints.

A figure is only meaningful beside a baseline measured in the same run on the same
machine (the machine is shared and noisy; ratios survive that, absolute numbers do
not), and beside the target it is held to. A figure that misses says why.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Figure:
    """One row: ``value`` beside ``baseline``; the target bounds ``value`` or the ratio."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    # The bound, and what it bounds: "value" (absolute) or "ratio" (value / baseline).
    target: float | None = None
    target_of: str = "value"
    reason: str = ""  # why a miss missed (filled in by the section that knows)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.baseline == 0:
            return None
        return self.value / self.baseline

    @property
    def measured(self) -> float | None:
        """What the target is compared with."""
        return self.ratio if self.target_of == "ratio" else self.value

    @property
    def verdict(self) -> str:
        if self.target is None:
            return ""
        measured = self.measured
        if measured is None or math.isnan(measured):
            return "n/a"
        # Rounded as printed, so a row never reads "1.50x ... MISS".
        return "ok" if round(measured, 2) <= self.target else "MISS"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ratio": self.ratio, "verdict": self.verdict}


def number(value: float | None, unit: str = "") -> str:
    """Compact, unit-aware formatting: counts as integers where they are whole."""
    if value is None:
        return "-"
    if unit == "$":
        return f"${value:,.3f}"
    if value == int(value) and abs(value) < 1e6:
        text = f"{int(value):,}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".rstrip()


def target_text(figure: Figure) -> str:
    if figure.target is None:
        return "-"
    if figure.target_of == "ratio":
        return f"<= {figure.target:g}x"
    return f"<= {number(figure.target, figure.unit)}"


def table(figures: list[Figure]) -> str:
    """A Markdown table (it reads in a terminal and pastes into docs/figures.md)."""
    header = ["figure", "value", "baseline (same run)", "ratio", "target", "verdict"]
    rows = [header, ["---"] * len(header)]
    for f in figures:
        baseline = (
            "-" if f.baseline is None else f"{number(f.baseline, f.unit)} ({f.baseline_name})"
        )
        ratio = "-" if f.ratio is None else f"{f.ratio:.2f}x"
        verdict = f.verdict + (f": {f.reason}" if f.verdict == "MISS" and f.reason else "")
        rows.append(
            [f.name, number(f.value, f.unit), baseline, ratio, target_text(f), verdict or "-"]
        )
    return "\n".join("| " + " | ".join(cells) + " |" for cells in rows)


def misses(figures: list[Figure]) -> list[Figure]:
    return [f for f in figures if f.verdict == "MISS"]
