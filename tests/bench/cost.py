"""Cost per million webhooks processed end to end, at AWS us-east-1 list prices.

Every line is ``quantity per webhook x unit price x 1,000,000`` with the arithmetic
kept as text, so the printed figure can be checked by hand. Quantities come from
the benchmark (counted requests, measured durations, measured log bytes); the
prices and the few assumptions that no local run can measure are stated here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

MILLION = 1_000_000

# us-east-1 list prices (on-demand, no free tier).
API_GATEWAY_REST_PER_M = 3.50
API_GATEWAY_HTTP_PER_M = 1.00  # HTTP APIs, first 300 million a month
# By the stack's apiFlavour setting (docs/decisions/0069-the-api-flavour-is-a-setting.md).
API_GATEWAY_PER_M = {"REST": API_GATEWAY_REST_PER_M, "HTTP": API_GATEWAY_HTTP_PER_M}
LAMBDA_ARM_PER_GB_S = 0.0000133334
LAMBDA_PER_M_REQUESTS = 0.20
SQS_STANDARD_PER_M = 0.40  # per 64 KB chunk of a request
DYNAMODB_PER_M_WRU = 0.625  # on-demand, after the November 2024 price cut
DYNAMODB_PER_M_RRU = 0.125
SECRETS_MANAGER_PER_10K = 0.05
CLOUDWATCH_LOGS_PER_GB = 0.50
XRAY_PER_M_TRACES = 5.00
S3_PUT_PER_K = 0.005  # S3 Standard PUT, COPY, POST, LIST per 1,000 requests
S3_GET_PER_K = 0.0004  # GET, HEAD and the rest per 1,000 requests
S3_STANDARD_PER_GB_MONTH = 0.023


@dataclass(frozen=True)
class LambdaUse:
    """One function's share of a webhook: invocations, billed duration and memory."""

    name: str
    invocations: float  # per webhook (a worker batch of 10 records is 0.1)
    duration_ms: float  # per invocation, measured; billed rounded up to whole ms
    memory_mb: int


@dataclass(frozen=True)
class CostInputs:
    api_requests: float = 1.0
    api_flavour: str = "REST"
    functions: tuple[LambdaUse, ...] = ()
    sqs_requests: float = 0.0
    dynamodb_wru: float = 0.0
    dynamodb_rru: float = 0.0
    secret_reads: float = 0.0
    log_bytes: float = 0.0
    xray_traces: float = 0.0


@dataclass
class CostLine:
    item: str
    arithmetic: str
    dollars: float


@dataclass
class Cost:
    lines: list[CostLine] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(line.dollars for line in self.lines)

    def text(self) -> str:
        width = max(len(line.item) for line in self.lines)
        out = [f"  {line.item:<{width}}  {line.arithmetic} = ${line.dollars:.4f}" for line in self]
        out.append(f"  {'total':<{width}}  ${self.total:.4f} per million webhooks")
        return "\n".join(out)

    def __iter__(self):
        return iter(self.lines)


def billed_ms(duration_ms: float) -> int:
    """Lambda bills each invocation's duration rounded up to the millisecond."""
    return max(1, math.ceil(duration_ms))


def per_million(inputs: CostInputs) -> Cost:
    """Dollars per million webhooks, line by line, with the arithmetic shown."""
    cost = Cost()
    price = API_GATEWAY_PER_M[inputs.api_flavour]
    cost.lines.append(
        CostLine(
            f"API Gateway {inputs.api_flavour}",
            f"{inputs.api_requests:g} req x ${price:.2f}/M",
            inputs.api_requests * price,
        )
    )
    for use in inputs.functions:
        ms = billed_ms(use.duration_ms)
        gb_s = use.invocations * ms / 1000 * use.memory_mb / 1024
        cost.lines.append(
            CostLine(
                f"Lambda {use.name} requests",
                f"{use.invocations:.3g} inv x ${LAMBDA_PER_M_REQUESTS}/M",
                use.invocations * LAMBDA_PER_M_REQUESTS,
            )
        )
        cost.lines.append(
            CostLine(
                f"Lambda {use.name} duration",
                f"{use.invocations:.3g} inv x {ms} ms x {use.memory_mb / 1024:g} GB"
                f" = {gb_s:.5f} GB-s x ${LAMBDA_ARM_PER_GB_S} x 1M",
                gb_s * LAMBDA_ARM_PER_GB_S * MILLION,
            )
        )
    cost.lines.append(
        CostLine(
            "SQS",
            f"{inputs.sqs_requests:.3g} req x ${SQS_STANDARD_PER_M}/M",
            inputs.sqs_requests * SQS_STANDARD_PER_M,
        )
    )
    cost.lines.append(
        CostLine(
            "DynamoDB writes",
            f"{inputs.dynamodb_wru:.3g} WRU x ${DYNAMODB_PER_M_WRU}/M",
            inputs.dynamodb_wru * DYNAMODB_PER_M_WRU,
        )
    )
    if inputs.dynamodb_rru:
        cost.lines.append(
            CostLine(
                "DynamoDB reads",
                f"{inputs.dynamodb_rru:.3g} RRU x ${DYNAMODB_PER_M_RRU}/M",
                inputs.dynamodb_rru * DYNAMODB_PER_M_RRU,
            )
        )
    cost.lines.append(
        CostLine(
            "Secrets Manager",
            f"{inputs.secret_reads:.3g} calls x ${SECRETS_MANAGER_PER_10K}/10k x 1M",
            inputs.secret_reads * SECRETS_MANAGER_PER_10K / 10_000 * MILLION,
        )
    )
    gigabytes = inputs.log_bytes * MILLION / 1e9
    cost.lines.append(
        CostLine(
            "CloudWatch Logs",
            f"{inputs.log_bytes:,.0f} B x 1M = {gigabytes:.3g} GB x ${CLOUDWATCH_LOGS_PER_GB}/GB",
            gigabytes * CLOUDWATCH_LOGS_PER_GB,
        )
    )
    if inputs.xray_traces:
        cost.lines.append(
            CostLine(
                "X-Ray",
                f"{inputs.xray_traces:.3g} traces x ${XRAY_PER_M_TRACES}/M",
                inputs.xray_traces * XRAY_PER_M_TRACES,
            )
        )
    return cost


def dynamodb_item_bytes(item: dict) -> int:
    """An item's size as DynamoDB bills it: attribute names plus values (low-level JSON)."""

    def value_size(value: dict) -> int:
        ((kind, inner),) = value.items()
        if kind in {"S", "B"}:
            return len(inner.encode() if isinstance(inner, str) else inner)
        if kind == "N":
            return (len(inner.lstrip("-").replace(".", "").lstrip("0")) + 1) // 2 + 1
        if kind in {"BOOL", "NULL"}:
            return 1
        if kind == "M":
            return 3 + sum(len(k.encode()) + value_size(v) + 1 for k, v in inner.items())
        if kind == "L":
            return 3 + sum(value_size(v) + 1 for v in inner)
        if kind in {"SS", "NS", "BS"}:
            return sum(value_size({kind[0]: v}) for v in inner)
        return len(str(inner))

    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(item_bytes: int) -> int:
    """One WRU per started KB of the item written."""
    return max(1, math.ceil(item_bytes / 1024))
