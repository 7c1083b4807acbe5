"""``make bench``: run every section, print the table, write .cache/bench.json.

    python -m tests.bench            # BENCH_E2E_WEBHOOKS=0 skips the local cloud run
    python -m tests.bench --only coldstart,overhead   # those sections (and counts, which
                                                      # they read) and their ratios only

Sections run in fresh interpreters one after the other (sections.run_section);
this module only turns their measurements into figures beside their baselines and
targets (figures.py), and the cost per million webhooks (cost.py).
"""

from __future__ import annotations

import argparse
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


def only(sections: list[str]) -> None:
    """Run the named sections (after counts, which the others read, and assets, which
    synthesizes the template counts deploys, when it is not there yet) and print their
    ratios; nothing is written beside .cache/bench/<section>.json."""
    WORKDIR.mkdir(parents=True, exist_ok=True)
    data = {}
    if "assets" in sections or not (WORKDIR / "template.json").exists():
        print("bench: assets...", flush=True)
        data["assets"] = run_section("assets", WORKDIR)
    print("bench: counts...", flush=True)
    data["counts"] = run_section("counts", WORKDIR)
    for step in sections:
        if step not in data:
            print(f"bench: {step}...", flush=True)
            data[step] = run_section(step, WORKDIR)
    if "overhead" in data:
        o = data["overhead"]
        print(
            f"warm webhook {o['webhook_us']:.0f} us vs bare same calls "
            f"{o['bare_same_calls_us']:.0f} us: {o['webhook_us'] / o['bare_same_calls_us']:.2f}x"
        )
        print(
            f"warm worker {o['worker_us_per_record']:.0f} us/record vs bare "
            f"{o['bare_worker_us_per_record']:.0f} us: "
            f"{o['worker_us_per_record'] / o['bare_worker_us_per_record']:.2f}x"
        )
        print(
            f"exact calls made bare: webhook {o['exact_webhook_us']:.0f} us "
            f"({o['webhook_us'] / o['exact_webhook_us']:.2f}x), worker "
            f"{o['exact_worker_us_per_record']:.0f} us/record "
            f"({o['worker_us_per_record'] / o['exact_worker_us_per_record']:.2f}x)"
        )
    if "coldstart" in data:
        cold = data["coldstart"]
        floor = cold["ms"]["floor"]
        print(f"cold floor {floor:.0f} ms")
        for name, ms in cold["ms"].items():
            if name != "floor":
                top = ", ".join(f"{p} {m:.0f}" for p, m in cold["imports"][name]["top"])
                print(f"cold {name} {ms:.0f} ms: {ms / floor:.2f}x ({top})")
    for step in sections:
        if step not in ("assets", "counts", "overhead", "coldstart"):
            print(json.dumps(data[step], indent=1)[:4000])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench")
    parser.add_argument("--only", help="comma-separated sections, e.g. coldstart,overhead")
    arguments = parser.parse_args()
    if arguments.only:
        only([step.strip() for step in arguments.only.split(",") if step.strip()])
        return
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
    if unrecorded:
        rest_unrecorded = per_million(replace(unrecorded, api_flavour="REST"))
        costs.append(("API Gateway REST, a source with record: false", rest_unrecorded, 9.0))
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
