"""The README's Figures section is the committed bench figures, as make bench wrote them."""

from __future__ import annotations

import json

from tests.bench import readme


def test_the_readmes_figures_are_the_committed_bench_figures() -> None:
    bench = json.loads(readme.FIGURES.read_text())
    text = readme.README.read_text()

    assert readme.block(text) == readme.render(bench), (
        "README.md's figures differ from docs/figures/bench.json: run make bench, or"
        " python -c 'from tests.bench import readme; readme.write()'"
    )


def test_the_block_shows_each_headline_with_its_target_verdict_and_commit() -> None:
    bench = {
        "measured_at": "2026-12-01T04:00:00+00:00",
        "commit": "abc1234",
        "machine": "2 cores",
        "table": "| figure | value | baseline (same run) | ratio | target | verdict |\n"
        "| --- | --- | --- | --- | --- | --- |\n"
        "| AWS requests / accepted webhook | 4 | 1 | 4.00x | <= 4 | ok |\n"
        "| Cold start: webhook (import + first request) | 300 ms | 200 ms | 1.50x | <= 1.3x"
        " | MISS: imports |\n"
        "| Cost per million webhooks, end to end, API Gateway HTTP | $8.9 | $1.0 | 8.9x"
        " | <= $6.000 | MISS: DynamoDB |",
    }

    block = readme.render(bench)

    lines = block.splitlines()
    assert lines[3].startswith("| Cost per million webhooks") and lines[3].endswith("| MISS |")
    cold = "| Cold start: webhook (import + first request) | 300 ms | 200 ms | 1.50x | <= 1.3x |"
    assert f"{cold} MISS |" in lines
    assert "accepted webhook" not in block
    assert "2026-12-01 on commit `abc1234`" in block
