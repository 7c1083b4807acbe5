"""The local cloud end to end: signed webhooks over HTTP until their actions complete.

Starts infra.local.cloud.LocalCloud on free loopback ports with the template the
assets section synthesized, sends ``BENCH_E2E_WEBHOOKS`` signed GitHub deliveries
(each a new delivery id) from ``BENCH_E2E_SENDERS`` threads, and reads each action's
completion time (``updated_at``) from the actions table. The baseline is the bare
handler sending to the same moto server from the same threads, with no HTTP front:
it is what moto and this machine allow at all. Local durations are a proxy for
Lambda's (moto answers slower than DynamoDB and SQS, and functions share 2 cores).
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.bench.aws import BASE_ENV

os.environ.update(BASE_ENV)
sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the functions' log lines, for the process

from tests.bench.sections import percentile, section_main  # noqa: E402

WEBHOOKS = int(os.environ.get("BENCH_E2E_WEBHOOKS", "200"))
SENDERS = int(os.environ.get("BENCH_E2E_SENDERS", "4"))
TIMEOUT_SECONDS = float(os.environ.get("BENCH_E2E_TIMEOUT", "150"))
_REPORT = re.compile(r"^REPORT (\S+) RequestId: \S+ Duration: ([\d.]+) ms")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _post(url: str, event: dict[str, Any]) -> tuple[float, float, dict]:
    from tests.bench.aws import decoded_body

    request = urllib.request.Request(  # noqa: S310 - the local cloud on 127.0.0.1
        url, data=decoded_body(event), method="POST", headers=event["headers"]
    )
    started = time.time()
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback
        answer = json.loads(response.read())
        assert response.status == 202, answer
    return started, time.time(), answer


def measure(workdir: Path) -> dict[str, Any]:
    import boto3

    from infra.local.cloud import LocalCloud
    from infra.local.demo_secrets import DEMO_SECRETS
    from tests.bench.aws import signed_github
    from tests.bench.baseline import BareHandler

    template = json.loads((workdir / "template.json").read_text())
    lines: list[str] = []
    cloud = LocalCloud(
        api_port=_free_port(), aws_port=_free_port(), log=lines.append, template=template
    )
    cloud.start()
    try:
        events = [signed_github(f"e2e-{time.time_ns()}-{n}", n) for n in range(WEBHOOKS)]
        url = f"{cloud.webhook_url}github"
        lines.clear()
        began = time.time()
        with ThreadPoolExecutor(SENDERS) as pool:
            sent = list(pool.map(lambda event: _post(url, event), events))
        accepted_at = time.time()
        table = cloud.deployment.outputs["ActionsTableName"]
        dynamodb = boto3.client("dynamodb")
        wanted = {answer["action_id"]: started for started, _, answer in sent}
        done: dict[str, float] = {}
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while len(done) < len(wanted) and time.monotonic() < deadline:
            time.sleep(0.5)
            for page in dynamodb.get_paginator("scan").paginate(
                TableName=table, ConsistentRead=True
            ):
                for item in page["Items"]:
                    action_id = item["action_id"]["S"]
                    if action_id in wanted and item["status"]["S"] == "complete":
                        done[action_id] = float(item["updated_at"]["N"])
        report = [(m.group(1), float(m.group(2))) for m in map(_REPORT.match, lines) if m]

        queue_url = json.loads(cloud.deployment.outputs["JobQueues"])["low"]["url"]
        bare = BareHandler(DEMO_SECRETS["github"].encode(), queue_url)
        bare_events = [signed_github(f"bare-{n}", n) for n in range(WEBHOOKS)]

        def timed_bare(event: dict) -> float:
            started = time.perf_counter()
            assert bare.handle(event)["statusCode"] == 202
            return time.perf_counter() - started

        bare_began = time.time()
        with ThreadPoolExecutor(SENDERS) as pool:
            bare_latencies = list(pool.map(timed_bare, bare_events))
        bare_seconds = time.time() - bare_began
    finally:
        cloud.stop()

    latencies = [done[a] - wanted[a] for a in done]
    durations: dict[str, list[float]] = {}
    for function, ms in report:
        durations.setdefault(function, []).append(ms)
    return {
        "webhooks": WEBHOOKS,
        "senders": SENDERS,
        "completed": len(done),
        "accepted_per_s": WEBHOOKS / (accepted_at - began),
        "completed_per_s": len(done) / (max(done.values()) - began) if done else 0.0,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "http_p50_ms": statistics.median(end - start for start, end, _ in sent) * 1000,
        "bare_per_s": WEBHOOKS / bare_seconds,
        "bare_p50_ms": statistics.median(bare_latencies) * 1000,
        "bare_p99_ms": percentile(bare_latencies, 99) * 1000,
        # Per function: invocations and summed duration, from the runtime's REPORT lines.
        "functions": {
            name: {"invocations": len(ms), "total_ms": sum(ms), "median_ms": statistics.median(ms)}
            for name, ms in durations.items()
        },
    }


if __name__ == "__main__":
    section_main("e2e", measure)
