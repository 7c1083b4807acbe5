"""From the sections' measurements to figures, baselines, targets and miss reasons.

Kept apart from the sections so that the arithmetic is unit-tested (test_bench.py)
without running anything.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tests.bench.cost import (
    S3_GET_PER_K,
    S3_PUT_PER_K,
    S3_STANDARD_PER_GB_MONTH,
    Cost,
    CostInputs,
    LambdaUse,
)
from tests.bench.report import Figure

# Assumptions of the cost model that no local run measures (docs/figures.md).
WARM_INSTANCES = 10  # webhook functions kept warm, each reading each secret every cache period
SECRET_CACHE_SECONDS = 300
WEBHOOKS_PER_DAY = 1_000_000
PLATFORM_LOG_BYTES = 300  # START, END and REPORT lines per invocation
ACCESS_LOG_BYTES = 350  # the stage's JSON access log line per request
XRAY_SAMPLED = 0.05  # default sampling rule: 5% past the 1 request/s reservoir
XRAY_RESERVOIR_PER_DAY = 86_400  # the reservoir: the first request of each second


def xray_traces(requests_per_webhook: float) -> float:
    """Traces recorded per webhook at one entry point (API Gateway's stage, the worker
    function): the reservoir's first request of each second, then 5% of the rest."""
    requests = requests_per_webhook * WEBHOOKS_PER_DAY
    reservoir = min(requests, XRAY_RESERVOIR_PER_DAY)
    return (reservoir + XRAY_SAMPLED * (requests - reservoir)) / WEBHOOKS_PER_DAY


# A DynamoDB item write or an SQS send from Lambda, within the region: DynamoDB answers
# item writes in single-digit milliseconds; SQS SendMessage takes about 10 ms.
AWS_CALL_MS = 10.0  # Why: docs/decisions/0072-the-bench-prices-what-aws-bills.md
_STATUS_KEYS = {"status", "status_scheduled"}


def _mb(value: float) -> float:
    return value / 1e6


def _named(e2e: dict[str, Any], part: str) -> str:
    """The local cloud's name of the function whose logical id holds ``part``."""
    return next(name for name in e2e["functions"] if part in name)


def _memory(assets: dict[str, Any], handler_module: str) -> int:
    for function in assets["functions"].values():
        if function["handler"].startswith(f"functions.handlers.{handler_module}."):
            return int(function["memory_mb"])
    raise KeyError(handler_module)


def _durations(
    overhead: dict[str, Any], webhook_calls: float, worker_calls: float, records: float
) -> tuple[float, float]:
    """Billed ms of a webhook invocation and of a worker invocation (``records`` records):
    each function's warm time on in-process moto plus ``AWS_CALL_MS`` an AWS call."""
    webhook = overhead["webhook_us"] / 1000 + webhook_calls * AWS_CALL_MS
    worker = records * (overhead["worker_us_per_record"] / 1000 + worker_calls * AWS_CALL_MS)
    return webhook, worker


def _dynamodb_units(counts: dict[str, Any]) -> tuple[float, str]:
    """WRU per webhook end to end, as DynamoDB bills them: the ledger's units
    (tests/bench/ledger.py: each write's item before and after, and what it did to each
    index entry) of the warm accepts and of the worker's runs, per webhook."""
    (accept_table, accept_index), (run_table, run_index) = (
        counts["webhook_wru"],
        counts["worker_wru"],
    )
    total = accept_table + accept_index + run_table + run_index
    text = (
        f"accept {accept_table:g} + {accept_index:g} WRU, run {run_table:g} + {run_index:g}"
        " WRU (table + index entries, from each write's item before and after)"
    )
    return total, text


def _entry_sizes(counts: dict[str, Any]) -> str:
    sizes = counts.get("action_index_entry_bytes") or []
    return "/".join(str(size) for size in sizes) or "= item"


def cost_inputs(data: dict[str, Any]) -> tuple[CostInputs, list[str]]:
    counts, assets, overhead = data["counts"], data["assets"], data["overhead"]
    e2e = data.get("e2e")
    # Worker invocations per action: as the local cloud batched them, else full batches.
    worker_invocations = (
        e2e["functions"][_named(e2e, "Worker")]["invocations"] / e2e["completed"] if e2e else 0.1
    )
    records = 1 / worker_invocations
    webhook_calls = len(counts["accepted"]) / counts["warm_webhooks"]
    worker_calls = len(counts["worker_calls"]) / counts["completed"]
    # Each function's own time, measured warm on in-process moto (which stands in for the
    # calls' server side too), plus every AWS call's round trip within the region.
    webhook_ms, worker_ms = _durations(overhead, webhook_calls, worker_calls, records)
    source = (
        f"each function's warm time on in-process moto (webhook {overhead['webhook_us'] / 1000:.1f}"
        f" ms, worker {overhead['worker_us_per_record'] / 1000:.1f} ms a record) plus"
        f" {AWS_CALL_MS:g} ms for each of its AWS calls ({webhook_calls:g} and"
        f" {worker_calls:g} a record), the round trip to DynamoDB and SQS within a region"
    )
    if e2e:
        local = {name: e2e["functions"][_named(e2e, name)] for name in ("Webhook", "Worker")}
        source += (
            "; the local cloud's REPORT durations, where a moto server on the same cores"
            f" answers every call, were {local['Webhook']['median_ms']:.0f} ms (webhook) and"
            f" {local['Worker']['total_ms'] / local['Worker']['invocations']:.0f} ms (worker"
            " invocation): an upper bound, not a forecast"
        )
    wru, wru_text = _dynamodb_units(counts)
    secret_reads = WARM_INSTANCES * 86_400 / SECRET_CACHE_SECONDS / WEBHOOKS_PER_DAY
    invocations = 1 + worker_invocations
    log_bytes = (
        counts["webhook_log_bytes"]
        + counts["worker_log_bytes"]
        + invocations * PLATFORM_LOG_BYTES
        + ACCESS_LOG_BYTES
    )
    inputs = CostInputs(
        api_requests=1,
        functions=(
            LambdaUse("webhook", 1, webhook_ms, _memory(assets, "webhook")),
            LambdaUse("worker", worker_invocations, worker_ms, _memory(assets, "worker")),
        ),
        sqs_requests=1 + 2 * worker_invocations,
        dynamodb_wru=wru,
        secret_reads=secret_reads,
        log_bytes=log_bytes,
        xray_traces=xray_traces(1) + xray_traces(worker_invocations),
    )
    assumptions = [
        f"durations: {source}",
        f"worker: {worker_invocations:.3g} invocations per action as batched locally"
        " (batch size 10, window 1 s); SQS: 1 SendMessage + 1 ReceiveMessage and 1"
        " DeleteMessageBatch per worker invocation; idle long polls not counted",
        f"DynamoDB: {wru_text}; items {counts['action_item_bytes']} B (action),"
        f" {counts['idempotency_item_bytes']} B (idempotency), ~1 KB payload; index entries"
        f" {_entry_sizes(counts)} B (projected attributes + 100 B)",
        f"Secrets Manager: {WARM_INSTANCES} warm instances re-reading every"
        f" {SECRET_CACHE_SECONDS} s, {WEBHOOKS_PER_DAY:,} webhooks a day",
        f"logs: measured {counts['webhook_log_bytes']:.0f} B (webhook) +"
        f" {counts['worker_log_bytes']:.0f} B (worker) of function output, plus"
        f" {PLATFORM_LOG_BYTES} B platform lines per invocation and a {ACCESS_LOG_BYTES} B"
        " access log line",
        f"X-Ray: tracing is Active; the default sampling at API Gateway's stage and at the"
        f" worker: the first request of each second, then {XRAY_SAMPLED:.0%}; at"
        f" {WEBHOOKS_PER_DAY:,} webhooks a day the reservoir is most of it (context"
        " tracing=false removes the line)",
        "not counted: data transfer, CloudWatch metrics/alarms/dashboard, storage, KMS",
    ]
    return inputs, assumptions


def unrecorded_inputs(data: dict[str, Any], inputs: CostInputs) -> CostInputs | None:
    """``inputs`` for webhooks of a source with ``"record": false``, on the HTTP flavour:
    the requests and write units counted for them; each function's own time as the
    recorded path's (which makes more calls: an upper bound)."""
    unrecorded = data["counts"].get("unrecorded")
    if not unrecorded:
        return None
    overhead = data["overhead"]
    webhook, worker = inputs.functions
    webhook_calls = len(unrecorded["accepted"]) / unrecorded["warm_webhooks"]
    worker_calls = len(unrecorded["worker_calls"]) / unrecorded["completed"]
    records = 1 / worker.invocations
    webhook_ms, worker_ms = _durations(overhead, webhook_calls, worker_calls, records)
    return replace(
        inputs,
        api_flavour="HTTP",
        functions=(
            replace(webhook, duration_ms=webhook_ms),
            replace(worker, duration_ms=worker_ms),
        ),
        dynamodb_wru=sum(unrecorded["webhook_wru"]) + sum(unrecorded["worker_wru"]),
    )


def _count_reason(calls: list[list[str]]) -> str:
    return "calls: " + ", ".join(op for _, op in calls)


def figures(data: dict[str, Any], costs: list[tuple[str, Cost, float]]) -> list[Figure]:
    """Every row but the pages' and the console's; ``costs``: (what, cost, target) each."""
    counts, overhead, cold, assets = (
        data["counts"],
        data["overhead"],
        data["coldstart"],
        data["assets"],
    )
    rows: list[Figure] = []
    warm = counts["warm_webhooks"]
    accepted = len(counts["accepted"]) / warm
    rejected = [c for c in counts["rejected"] if c[1] != "GetSecretValue"]
    worker_ddb = [c for c in counts["worker_calls"] if c[0] == "dynamodb"]
    worker_sqs = [c for c in counts["worker_calls"] if c[0] == "sqs"]
    bare = len(counts["bare_accepted"])
    wru, wru_text = _dynamodb_units(counts)
    rows += [
        Figure("AWS requests / accepted webhook", accepted, "", bare, "bare handler", 4,
               reason=_count_reason(counts["accepted"][: int(accepted)]),
               note="+1 GetSecretValue per source per cache period"),
        Figure("AWS requests / duplicate", len(counts["duplicate"]), "", bare,
               "bare handler (no de-duplication)", 1, reason=_count_reason(counts["duplicate"])),
        Figure("AWS requests / rejected (beyond the secret read)", len(rejected), "",
               len(counts["bare_rejected"]), "bare handler", 0, reason=_count_reason(rejected)),
        Figure("DynamoDB writes / completed action (worker)",
               len(worker_ddb) / counts["completed"], "", target=2,
               reason=_count_reason(worker_ddb[:4])),
        Figure("SQS calls of ours / completed action", len(worker_sqs) / counts["completed"],
               "", target=0, reason=_count_reason(worker_sqs[:3])),
        Figure("DynamoDB write units / webhook, accepted to completed", wru, "", target=8,
               reason=wru_text),
    ]  # fmt: skip
    share = overhead["botocore_share"]
    bare_us = overhead["bare_us"]
    for name, value, label, calls, rest in (
        ("webhook", overhead["webhook_us"], "Webhook handler, warm, per request", int(accepted),
         "idempotency, JSON logs, metrics"),
        ("worker", overhead["worker_us_per_record"], "Worker, warm, per record",
         len(worker_ddb) / counts["completed"], "batch processor, envelope model, JSON logs"),
    ):  # fmt: skip
        per_call = value * share[name] / max(calls, 1) / 1000
        rows.append(
            Figure(
                label, value, "us", bare_us, "bare: HMAC + 1 send", 1.5, "ratio",
                reason=(
                    f"{calls:g} AWS calls vs 1: {share[name]:.0%} of it is inside botocore"
                    f" (~{per_call:.1f} ms a call vs {bare_us * share['bare'] / 1000:.1f} ms"
                    f" for the bare one's); the rest is Powertools and ours ({rest})"
                ),
            )
        )  # fmt: skip
    # The same calls made bare: the framework's share, apart from what the calls cost.
    # Targeted: the very calls the handler made, with its params (baseline.ExactCalls).
    # Shown beside them: the same operations with minimal params, whose ratio also
    # counts botocore's work on our larger items.
    around = "Powertools (idempotency, batch), our models, JSON logs and metrics around the calls"
    for value, base, label, calls, target in (
        (overhead["webhook_us"], overhead.get("exact_webhook_us"),
         "Webhook handler vs its own 4 calls made bare", "the same 4 calls, same params", 1.5),
        (overhead["worker_us_per_record"], overhead.get("exact_worker_us_per_record"),
         "Worker vs its own calls made bare, per record", "the same 2 UpdateItems, same params",
         1.5),
        (overhead["webhook_us"], overhead.get("bare_same_calls_us"),
         "Webhook handler vs its 4 operations with minimal params",
         "the same 4 operations, minimal params", None),
        (overhead["worker_us_per_record"], overhead.get("bare_worker_us_per_record"),
         "Worker vs its 2 UpdateItems with minimal params, per record",
         "2 UpdateItems of one attribute", None),
    ):  # fmt: skip
        if base:
            rows.append(
                Figure(
                    label, value, "us", base, f"bare: {calls}", target, "ratio",
                    reason=around if target else "",
                    note="" if target else "also counts botocore's work on our larger items",
                )
            )  # fmt: skip
    floor = cold["ms"]["floor"]
    for name, ms in cold["ms"].items():
        if name == "floor":
            continue
        imports = cold["imports"].get(name, {})
        top = ", ".join(f"{pkg} {cost_ms:.0f} ms" for pkg, cost_ms in imports.get("top", []))
        rows.append(
            Figure(
                f"Cold start: {name} (import + first request)", ms, "ms", floor,
                "import boto3 + 1 client", 1.5, "ratio",
                reason=f"imports beyond the floor, self time: {top}",
                note="stretch target 1.3x",
            )
        )  # fmt: skip
    function = next(iter(assets["functions"].values()))
    inside = function["runtime_packages"]
    names = ", ".join(sorted({f["handler"].split(".")[2] for f in assets["functions"].values()}))
    rows.append(
        Figure(
            f"Lambda asset, unzipped ({names}: {assets['distinct_assets']} shared asset)",
            _mb(function["unzipped"]), "MB", _mb(assets["source_bytes"]), "functions/ alone",
            15, reason="boto3/botocore inside: " + ", ".join(inside) if inside else "",
            note=f"zipped {_mb(function['zipped']):.1f} MB; boto3/botocore inside: "
            + (", ".join(inside) or "none"),
        )
    )  # fmt: skip
    if inside:
        rows[-1].value = max(rows[-1].value, 15.01)  # a bundled runtime package is a miss
    e2e = data.get("e2e")
    if e2e:
        rows += [
            Figure("Local cloud: webhooks accepted per s", e2e["accepted_per_s"], "/s",
                   e2e["bare_per_s"], "bare handler on the same moto"),
            Figure("Local cloud: actions completed per s", e2e["completed_per_s"], "/s",
                   e2e["bare_per_s"], "bare handler on the same moto"),
            Figure("Local cloud: p50 request to completion", e2e["p50_ms"], "ms",
                   e2e["bare_p50_ms"], "bare handler's request"),
            Figure("Local cloud: p99 request to completion", e2e["p99_ms"], "ms",
                   e2e["bare_p99_ms"], "bare handler's request"),
        ]  # fmt: skip
    unrecorded = counts.get("unrecorded")
    if unrecorded:
        units = sum(unrecorded["webhook_wru"]) + sum(unrecorded["worker_wru"])
        rows.append(
            Figure("DynamoDB write units / webhook, a source with record: false", units, "",
                   wru, "the same webhook recorded", 8,
                   reason="idempotency only (decision record 0071)")
        )  # fmt: skip
    for what, flavour_cost, target in costs:
        api_line = flavour_cost.lines[0]
        first, second = sorted(flavour_cost.lines, key=lambda line: -line.dollars)[:2]
        share = (first.dollars + second.dollars) / flavour_cost.total
        rows.append(
            Figure(
                f"Cost per million webhooks, end to end, {what}",
                flavour_cost.total, "$", api_line.dollars, f"{api_line.item} alone", target,
                reason=f"{first.item} ${first.dollars:.2f} and {second.item}"
                f" ${second.dollars:.2f} are {share:.0%} of it (docs/figures.md: Cost)",
            )
        )  # fmt: skip
    return rows


def large_webhook(counts: dict[str, Any]) -> tuple[Figure, list[str]]:
    """The 1 MB webhook's requests (accepted and run) beside a typical one's, and the
    lines that say what each request carried and what the payload bucket adds."""
    large = counts["large_webhook"]
    calls = [*large["accepted"], *large["ran"]]
    typical = (
        len(counts["accepted"]) / counts["warm_webhooks"]
        + len(counts["worker_calls"]) / counts["completed"]
    )
    by_operation: dict[str, list[int]] = {}
    for service, operation, size in large["sent"]:
        by_operation.setdefault(f"{service} {operation}", []).append(size)
    got = sum(size for _, _, size in large["received"])
    lines = [
        f"Lambda event from API Gateway: {large['event_bytes']:,} B for a"
        f" {large['body_bytes']:,} B body (base64)",
        *(
            f"{name}: {len(sizes)} x, {sum(sizes):,} B sent"
            for name, sizes in sorted(by_operation.items())
        ),
        f"s3 GetObject: {got:,} B received",
    ]
    size_gb = large["body_bytes"] / 1e9
    puts = sum(1 for service, op in calls if (service, op) == ("s3", "PutObject"))
    gets = sum(1 for service, op in calls if (service, op) == ("s3", "GetObject"))
    stored = size_gb * S3_STANDARD_PER_GB_MONTH * 100 / 30  # kept 100 days (d100/)
    s3_dollars = (puts * S3_PUT_PER_K + gets * S3_GET_PER_K) / 1000 + stored
    lines.append(
        f"payload bucket per million such webhooks: {puts} PUT x ${S3_PUT_PER_K}/1k +"
        f" {gets} GET x ${S3_GET_PER_K}/1k + {size_gb * 1000:g} GB-month x 100/30 x"
        f" ${S3_STANDARD_PER_GB_MONTH} = ${s3_dollars * 1_000_000:,.2f}"
        " (KMS: one request per bucket key, not per object)"
    )
    figure = Figure(
        f"AWS requests / {large['body_bytes'] / 1e6:g} MB webhook, accepted and run",
        len(calls), "", typical, "a ~1 KB webhook", typical + 2,
        reason=_count_reason(calls),
        note="+1 S3 PutObject on accept, +1 GetObject on run",
    )  # fmt: skip
    return figure, lines
