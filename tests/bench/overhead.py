"""Warm overhead per webhook request and per worker record, AWS answered by a local replay.

Every AWS call is answered at botocore's HTTP layer from moto's recorded answers
(counts.py), so the figure is our code plus botocore, with no moto and no socket.
The baseline (baseline.py) goes through the same replay. Rounds alternate handler
and baseline so that the machine's noise falls on both alike; medians are reported.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from tests.bench.aws import BASE_ENV

os.environ.update(BASE_ENV)
# As on Lambda: the handlers' first request ends the cold start's pause of the garbage
# collector and freezes what it built (functions/coldstart.py), which warm requests feel.
os.environ["AWS_LAMBDA_FUNCTION_NAME"] = "bench"
sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the handlers' log lines, for the process

from tests.bench.sections import median_us, section_main  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_OVERHEAD_ROUNDS", "15"))
PER_ROUND = int(os.environ.get("BENCH_OVERHEAD_PER_ROUND", "60"))
WARMUP = 50


def measure(workdir: Path) -> dict[str, Any]:
    counts = json.loads((workdir / "counts.json").read_text())
    os.environ.update(counts["environment"])
    from functions.handlers.webhook import lambda_handler as webhook
    from functions.handlers.worker import lambda_handler as worker
    from infra.local.demo_secrets import DEMO_SECRETS
    from infra.local.lambda_runtime import LocalContext
    from tests.bench.aws import Replay, signed_github
    from tests.bench.baseline import (
        BareHandler,
        BareSameCalls,
        BareWorker,
        ExactCalls,
        recorded_calls,
    )

    total = WARMUP + ROUNDS * PER_ROUND
    events = [signed_github(f"overhead-{n}", n) for n in range(total)]
    worker_event = counts["worker_event"]
    records = len(worker_event["Records"])
    context = LocalContext(function_name="bench", timeout_seconds=1e6)
    queue_url = json.loads(counts["environment"]["JOB_QUEUES"])["default"]["url"]
    answers = counts["answers"]
    samples: dict[str, list[float]] = {
        "webhook": [],
        "worker": [],
        "bare": [],
        "bare_same_calls": [],
        "bare_worker": [],
        "exact_webhook": [],
        "exact_worker": [],
    }
    environment = counts["environment"]

    from botocore.client import BaseClient

    in_botocore = [0.0]
    make_api_call = BaseClient._make_api_call

    def timed_call(self: Any, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return make_api_call(self, *args, **kwargs)
        finally:
            in_botocore[0] += time.perf_counter() - started

    BaseClient._make_api_call = timed_call  # type: ignore[method-assign]
    botocore_share: dict[str, float] = {}
    with Replay(answers["webhook"]).installed() as replay:
        bare = BareHandler(DEMO_SECRETS["github"].encode(), queue_url)
        bare_same = BareSameCalls(
            DEMO_SECRETS["github"].encode(),
            queue_url,
            environment["IDEMPOTENCY_TABLE_NAME"],
            environment["ACTIONS_TABLE_NAME"],
        )
        bare_worker = BareWorker(environment["ACTIONS_TABLE_NAME"])

        def run_webhook(event: dict) -> None:
            replay.load(answers["webhook"])
            assert webhook(event, context)["statusCode"] == 202

        def run_worker(_: dict) -> None:
            replay.load(answers["worker"])
            assert not worker(worker_event, context)["batchItemFailures"]

        def run_bare(event: dict) -> None:
            replay.load(answers["webhook"])
            assert bare.handle(event)["statusCode"] == 202

        def run_bare_same(event: dict) -> None:
            replay.load(answers["webhook"])
            assert bare_same.handle(event)["statusCode"] == 202

        def run_bare_worker(_: dict) -> None:
            replay.load(answers["worker"])
            assert not bare_worker.handle(worker_event)["batchItemFailures"]

        for n in range(WARMUP):
            run_webhook(events[n])
            run_bare(events[n])
            run_bare_same(events[n])
            run_worker({})
            run_bare_worker({})
        # The handlers' own calls, recorded warm (no secret read), to be made bare.
        with recorded_calls() as webhook_calls:
            run_webhook(events[0])
        with recorded_calls() as worker_calls:
            run_worker({})
        exact_webhook, exact_worker = ExactCalls(webhook_calls), ExactCalls(worker_calls)

        def run_exact_webhook(_: dict) -> None:
            replay.load(answers["webhook"])
            exact_webhook.handle()

        def run_exact_worker(_: dict) -> None:
            replay.load(answers["worker"])
            exact_worker.handle()

        for _ in range(WARMUP):
            run_exact_webhook({})
            run_exact_worker({})
        index = WARMUP
        for _ in range(ROUNDS):
            batch = events[index : index + PER_ROUND]
            index += PER_ROUND
            for name, run, divisor in (
                ("webhook", run_webhook, 1),
                ("bare", run_bare, 1),
                ("bare_same_calls", run_bare_same, 1),
                ("worker", run_worker, records),
                ("bare_worker", run_bare_worker, records),
                ("exact_webhook", run_exact_webhook, 1),
                ("exact_worker", run_exact_worker, records),
            ):
                spent, before = 0.0, in_botocore[0]
                for event in batch[: PER_ROUND if divisor == 1 else PER_ROUND // 4]:
                    started = time.perf_counter()
                    run(event)
                    elapsed = time.perf_counter() - started
                    spent += elapsed
                    samples[name].append(elapsed / divisor)
                share = (in_botocore[0] - before) / spent
                botocore_share[name] = botocore_share.get(name, 0.0) + share / ROUNDS
    return {
        "webhook_us": median_us(samples["webhook"]),
        "worker_us_per_record": median_us(samples["worker"]),
        "bare_us": median_us(samples["bare"]),
        "bare_same_calls_us": median_us(samples["bare_same_calls"]),
        "bare_worker_us_per_record": median_us(samples["bare_worker"]),
        # The handlers' own calls with their exact params, made bare (baseline.ExactCalls).
        "exact_webhook_us": median_us(samples["exact_webhook"]),
        "exact_worker_us_per_record": median_us(samples["exact_worker"]),
        "exact_calls": {
            "webhook": [operation for _, operation, _ in webhook_calls],
            "worker_per_batch": len(worker_calls),
        },
        "samples": {name: len(values) for name, values in samples.items()},
        "records_per_batch": records,
        # Of the handlers' time, the share spent inside botocore's calls (mean of rounds).
        "botocore_share": botocore_share,
    }


if __name__ == "__main__":
    section_main("overhead", measure)
