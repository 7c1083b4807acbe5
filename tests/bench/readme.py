"""The README's Figures section: the headline rows of docs/figures/bench.json.

``make bench`` rewrites the block between the README's ``figures`` markers from the
figures it has just written, and a unit test (tests/unit/test_readme_figures.py) fails
when the block and the committed figures differ: the README cannot show figures that
the last run did not measure.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
FIGURES = ROOT / "docs" / "figures" / "bench.json"
START = "<!-- figures: written by make bench from docs/figures/bench.json -->"
END = "<!-- /figures -->"
# The rows issue 17 targets, by the start of their names, in this order.
HEADLINES = (
    "Cost per million webhooks",
    "DynamoDB write units / webhook",
    "Cold start: webhook",
    "Cold start: worker",
    "Cold start: health",
    "Webhook handler vs its own",
    "Worker vs its own",
)


def _rows(table: str) -> list[list[str]]:
    """The Markdown table's body rows, cell by cell."""
    lines = [line for line in table.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[2:]]


def render(bench: dict[str, Any]) -> str:
    """The block: a table of the headline rows, with the date and commit measured."""
    rows = _rows(bench["table"])
    out = [
        START,
        "| figure | value | baseline (same run) | ratio | target | verdict |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for prefix in HEADLINES:
        for name, value, baseline, ratio, target, verdict in rows:
            if name.startswith(prefix):
                word = verdict.split(":", 1)[0]
                out.append(f"| {name} | {value} | {baseline} | {ratio} | {target} | {word} |")
    out += [
        "",
        f"Measured {bench['measured_at'][:10]} on commit `{bench['commit']}` ({bench['machine']})"
        " by `make bench`; every row, each miss's measured reason, the cost lines and the"
        " soak: [Figures](docs/figures.md).",
        END,
    ]
    return "\n".join(out)


def block(text: str) -> str:
    """The README's current block, markers included."""
    start, end = text.index(START), text.index(END) + len(END)
    return text[start:end]


def write(bench: dict[str, Any] | None = None) -> Path:
    """Rewrite the README's block from ``bench`` (by default the committed figures)."""
    bench = bench if bench is not None else json.loads(FIGURES.read_text())
    text = README.read_text()
    README.write_text(text.replace(block(text), render(bench)))
    return README
