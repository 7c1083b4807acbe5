"""``make bench``: run every section, print the table, write .cache/bench.json.

    python -m tests.bench            # BENCH_E2E_WEBHOOKS=0 skips the local cloud run

Sections run in fresh interpreters one after the other (sections.run_section);
this module only turns their measurements into figures beside their baselines and
targets (figures.py), and the cost per million webhooks (cost.py).
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import replace
from datetime import UTC, datetime

from tests.bench import readme
from tests.bench.console import figures as console_figures
from tests.bench.cost import Cost, per_million
from tests.bench.figures import cost_inputs, figures, large_webhook, unrecorded_inputs
from tests.bench.pages import figures as page_figures
from tests.bench.report import misses, table
from tests.bench.sections import ROOT, run_section, write_figures

WORKDIR = ROOT / ".cache" / "bench"
RESULTS = ROOT / ".cache" / "bench.json"


def main() -> None:
    started = time.monotonic()
    WORKDIR.mkdir(parents=True, exist_ok=True)
    data: dict[str, dict] = {}
    steps = ["assets", "counts", "pages", "overhead", "coldstart"]
    if int(os.environ.get("BENCH_E2E_WEBHOOKS", "200")) > 0:
        steps.append("e2e")
    if int(os.environ.get("BENCH_CONSOLE_LOADS", "5")) > 0:
        steps.append("console")
    for step in steps:
        print(f"bench: {step}...", flush=True)
        data[step] = run_section(step, WORKDIR)
    inputs, assumptions = cost_inputs(data)
    cost = per_million(inputs)
    http_cost = per_million(replace(inputs, api_flavour="HTTP"))
    costs = [("API Gateway REST", cost, 9.0), ("API Gateway HTTP", http_cost, 6.0)]
    unrecorded = unrecorded_inputs(data, inputs)
    unrecorded_cost = per_million(unrecorded) if unrecorded else None
    if unrecorded_cost:
        costs.append(("API Gateway HTTP, a source with record: false", unrecorded_cost, 6.0))
    rows = figures(data, costs)
    large_row, large_lines = large_webhook(data["counts"])
    rows.append(large_row)
    rows += page_figures(data["pages"])
    if "console" in data:
        rows += console_figures(data["console"])
    machine = f"{os.cpu_count()} cores, {platform.machine()}, Python {platform.python_version()}"
    print()
    print(table(rows))
    print()
    print("Cost per million webhooks, end to end (us-east-1 list prices):")
    print(cost.text())
    cost_text = _cost_text(cost, http_cost, unrecorded_cost)
    print(cost_text.removeprefix(cost.text()))
    print(f"{large_row.name.removeprefix('AWS requests / ')}:")
    for line in large_lines:
        print(f"  {line}")
    print("Assumptions:")
    for line in assumptions:
        print(f"  - {line}")
    print()
    print(f"machine: {machine}; bench took {time.monotonic() - started:.0f} s")
    missed = misses(rows)
    print(f"{len(rows) - len(missed)} figures within target or untargeted, {len(missed)} MISS")
    RESULTS.write_text(
        json.dumps(
            {
                "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine,
                "figures": [row.to_json() for row in rows],
                "cost": [vars(line) for line in cost],
                "cost_total": cost.total,
                "cost_total_http": http_cost.total,
                "assumptions": assumptions,
                "raw": {k: v for k, v in data.items() if k != "counts"},
            },
            indent=1,
        )
    )
    print(f"written: {RESULTS.relative_to(ROOT)}")
    figures_file = write_figures(
        "bench",
        {
            "table": table(rows),
            "cost": cost_text,
            "assumptions": assumptions,
        },
    )
    print(f"written: {figures_file.relative_to(ROOT)} (the docs' Figures page renders it)")
    print(f"written: {readme.write().relative_to(ROOT)} (its Figures section)")


def _cost_text(cost: Cost, http_cost: Cost, unrecorded_cost: Cost | None) -> str:
    """The REST lines, what the HTTP flavour changes, and the unrecorded source's lines."""
    text = cost.text() + (
        f"\n  with the HTTP API flavour: {http_cost.lines[0].arithmetic} instead, total"
        f" ${http_cost.total:.4f}"
    )
    if unrecorded_cost:
        text += (
            "\nWith the HTTP flavour and a source whose actions are unrecorded"
            ' ("record": false):\n' + unrecorded_cost.text()
        )
    return text


if __name__ == "__main__":
    main()
