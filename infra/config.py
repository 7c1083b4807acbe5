"""Deployment settings, read from CDK context (cdk.json, or ``-c key=value``).

Every key is optional; the defaults below are what cdk.json documents. The
webhook sources are validated with the same model the function uses, so a typo
fails ``cdk synth`` instead of the first webhook.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.alias_generators import to_camel

from functions.webhooks.config import MAX_BODY_BYTES, InvalidSources, parse_sources

if TYPE_CHECKING:  # importing CDK starts a node process: keep it out of the local cloud
    from aws_cdk import RemovalPolicy
    from constructs import Construct

DEFAULT_SOURCES: dict[str, dict[str, Any]] = {
    "github": {"scheme": "github"},
    "stripe": {"scheme": "stripe"},
    "shopify": {"scheme": "shopify"},
    "standard": {"scheme": "standard"},
    "hmac": {"scheme": "hmac", "header": "X-Signature", "encoding": "hex"},
}


# What CloudWatch Logs accepts as a retention, in days.
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 3653)


QUEUES = ("high", "default", "low", "fifo")


def _from_command_line(value: Any) -> Any:
    """Values given with -c on the command line arrive as strings; objects as JSON."""
    return json.loads(value) if isinstance(value, str) else value


class FunctionSettings(BaseModel):
    """What every function of the stack shares: its logs' retention and sampling, and
    the namespace of its metrics (infra/constructs/function.py)."""

    model_config = ConfigDict(frozen=True)

    log_retention_days: int
    log_sample_rate: float
    metrics_namespace: str
    tracing: bool = True


class DeploymentConfig(BaseModel):
    """The stack's settings; each field's context key is its name in camelCase."""

    model_config = ConfigDict(
        frozen=True, alias_generator=to_camel, populate_by_name=True, extra="forbid"
    )

    webhook_sources: dict[str, dict[str, Any]] = Field(default_factory=lambda: DEFAULT_SOURCES)
    # What the Lambda proxy integration can carry (functions/webhooks/config.py says how).
    webhook_max_body_bytes: int = Field(default=MAX_BODY_BYTES, ge=1, le=MAX_BODY_BYTES)
    webhook_idempotency_ttl_seconds: int = 7 * 24 * 3600
    webhook_secret_cache_seconds: int = 300
    # The API's flavour: "rest" (API Gateway REST API) or "http" (HTTP API, cheaper per
    # request, without WAF, gateway responses or X-Ray: docs/deploy/api-flavour.md).
    api_flavour: str = "rest"
    api_throttle_rate_limit: int = 100
    api_throttle_burst_limit: int = 200
    log_retention_days: int = 30
    metrics_namespace: str = "ActionScheduler"
    worker_memory_mb: int = 512
    # Merged over the defaults: a key given sets that queue only.
    worker_concurrency: dict[str, int] = Field(
        default_factory=lambda: {"high": 20, "default": 10, "low": 2, "fifo": 5}
    )
    circuit_failure_threshold: int = 5
    circuit_window_seconds: int = 60
    circuit_cooldown_seconds: int = 30
    # Share of invocations whose debug lines are logged (Powertools' log sampling).
    log_sample_rate: float = 0.01
    # X-Ray active tracing of the functions, the API stage and the saga. Lambda samples
    # 1 request a second and 5% of the rest, which is not configurable: false saves those
    # traces (about $0.50 per million webhooks) and the X-Ray SDK's import at cold start.
    tracing: bool = True
    # Folders of a team's own hook packages, relative to cdk.json's folder (infra/hook_packages.py).
    hook_packages: list[str] = Field(default_factory=list)
    # The project's example hooks (functions/hooks); process_webhook is deployed either way.
    example_hooks: bool = True
    # --- stage, alarms, hardening (infra/constructs/monitoring.py, docs/operations/alarms.md).
    # The stage decides what a stack deletion keeps: prod retains tables and queues.
    stage: str = "dev"
    alarm_email: str | None = None
    # Oldest message per job queue, in seconds: high work is expected within minutes,
    # low may wait. A plain number sets every queue; an object is merged over the defaults.
    alarm_queue_age_seconds: dict[str, int] = Field(
        default_factory=lambda: {"high": 300, "default": 900, "low": 3600, "fifo": 900}
    )
    alarm_worker_error_rate_percent: float = 5.0
    # Named by hand: to_camel would spell it alarmApi5XxRatePercent.
    alarm_api_5xx_rate_percent: float = Field(default=1.0, alias="alarmApi5xxRatePercent")
    alarm_schedule_target_errors: int = 5
    alarm_saga_failures: int = 1
    alarm_circuit_open_seconds: int = 300
    # Log each saga state's input and output (orders, payments) to CloudWatch Logs, for
    # debugging only: off, the log keeps the events without their data.
    saga_log_execution_data: bool = False
    # Per-route limits of POST /webhooks/{source}, within the stage's limits above.
    api_webhook_rate_limit: int = 50
    api_webhook_burst_limit: int = 100
    # Requests per 5 minutes per client IP; 0 leaves the WAF web ACL out. Not given, it is
    # PROD_WAF_RATE_LIMIT for stage=prod and 0 otherwise (see _stage_defaults).
    waf_rate_limit: int = 0
    # CIDR ranges the rate rule does not count (senders' published ranges: GitHub's meta
    # API "hooks", Stripe's webhook IPs). Only used when the WAF is on.
    waf_exempt_ranges: list[str] = Field(default_factory=list)
    # API Gateway's CloudWatch role is a setting of the whole account and region, not of
    # one API. True: the stack sets it to a role of its own, kept when the stack is
    # deleted, so other APIs' logging never points at a deleted role. False: the account
    # already has one (set by a platform team, or another stack), and the stack leaves it.
    api_gateway_cloud_watch_role: bool = True
    # --- health check (functions/health, docs/operations/health.md). The oldest-message
    # thresholds are the alarms' alarm_queue_age_seconds: one knob for "too old".
    health_max_queue_depth: int = 1000
    health_max_dead_letters: int = 0
    health_stuck_seconds: int = 300
    health_past_due_seconds: int = 600
    health_cache_seconds: int = 15

    @property
    def removal_policy(self) -> RemovalPolicy:
        """What deleting the stack does to tables and queues: prod keeps the data."""
        from aws_cdk import RemovalPolicy

        return RemovalPolicy.RETAIN if self.stage == "prod" else RemovalPolicy.DESTROY

    @property
    def functions(self) -> FunctionSettings:
        """The settings every PythonFunction of the stack receives."""
        return FunctionSettings(
            log_retention_days=self.log_retention_days,
            log_sample_rate=self.log_sample_rate,
            metrics_namespace=self.metrics_namespace,
            tracing=self.tracing,
        )

    @classmethod
    def context_keys(cls) -> dict[str, str]:
        """Field name -> its context key in cdk.json."""
        return {name: field.alias or name for name, field in cls.model_fields.items()}

    @classmethod
    def from_context(cls, scope: Construct) -> DeploymentConfig:
        """Every key is optional: a key not given keeps the default above."""
        given = {
            key: value
            for key in cls.context_keys().values()
            if (value := scope.node.try_get_context(key)) is not None
        }
        return cls.model_validate(given)

    @model_validator(mode="before")
    @classmethod
    def _stage_defaults(cls, data: Any) -> Any:
        """The WAF's rate rule is on by default for prod: a key given wins, 0 turns it off."""
        if isinstance(data, dict) and not {"wafRateLimit", "waf_rate_limit"} & data.keys():
            stage = data.get("stage", "dev")
            # A WAF attaches to a REST API's stage only: an HTTP API goes without.
            rest = data.get("apiFlavour", data.get("api_flavour", "rest")) == "rest"
            data = {
                **data,
                "wafRateLimit": PROD_WAF_RATE_LIMIT if stage == "prod" and rest else 0,
            }
        return data

    @field_validator("webhook_sources", "waf_exempt_ranges", mode="before")
    @classmethod
    def _json_from_command_line(cls, value: Any) -> Any:
        return _from_command_line(value)

    @field_validator("hook_packages", mode="before")
    @classmethod
    def _one_or_more_paths(cls, value: Any) -> Any:
        """``-c hookPackages=path`` names one folder; a JSON list names several."""
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [value]
        return _from_command_line(value)

    @field_validator("worker_concurrency", mode="before")
    @classmethod
    def _over_default_concurrency(cls, value: Any) -> Any:
        value = _from_command_line(value)
        defaults = cls.model_fields["worker_concurrency"].get_default(call_default_factory=True)
        return {**defaults, **value} if isinstance(value, dict) else value

    @field_validator("alarm_queue_age_seconds", mode="before")
    @classmethod
    def _over_default_ages(cls, value: Any) -> Any:
        value = _from_command_line(value)
        defaults = cls.model_fields["alarm_queue_age_seconds"].get_default(
            call_default_factory=True
        )
        if isinstance(value, dict):
            return {**defaults, **value}
        return dict.fromkeys(defaults, value)  # one number for every queue

    @field_validator("alarm_email", mode="before")
    @classmethod
    def _no_email(cls, value: Any) -> Any:
        return value or None

    @model_validator(mode="after")
    def _valid(self) -> DeploymentConfig:
        _validate_monitoring(self)
        _validate_health(self)
        if not 0 <= self.log_sample_rate <= 1:
            raise ValueError(f"logSampleRate must be 0..1: {self.log_sample_rate}")
        bad = {q: n for q, n in self.worker_concurrency.items() if not 2 <= n <= 1000}
        if bad or set(self.worker_concurrency) != set(QUEUES):
            raise ValueError(
                "workerConcurrency needs high, default, low and fifo, each 2..1000 "
                f"(Lambda's limits for an SQS mapping): {self.worker_concurrency}"
            )
        if self.log_retention_days not in RETENTION_DAYS:
            raise ValueError(f"logRetentionDays must be one of {RETENTION_DAYS}")
        # The secret is filled in by the stack when a source does not name one.
        try:
            parse_sources(
                json.dumps(
                    {
                        name: {"secret": "placeholder", **spec}
                        for name, spec in self.webhook_sources.items()
                    }
                )
            )
        except InvalidSources as exc:
            raise ValueError(f"webhookSources: {exc}") from None
        return self


STAGES = ("dev", "prod")
API_FLAVOURS = ("rest", "http")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _validate_monitoring(config: DeploymentConfig) -> None:
    """Fail synth on a value CloudWatch, API Gateway or WAF would refuse at deploy time."""
    if config.api_flavour not in API_FLAVOURS:
        raise ValueError(f"apiFlavour must be one of {API_FLAVOURS}: {config.api_flavour!r}")
    if config.api_flavour != "rest" and (config.waf_rate_limit or config.waf_exempt_ranges):
        raise ValueError(
            "wafRateLimit and wafExemptRanges need apiFlavour=rest: AWS WAF attaches to a "
            "REST API's stage, not to an HTTP API (docs/deploy/api-flavour.md)"
        )
    if config.stage not in STAGES:
        raise ValueError(f"stage must be one of {STAGES}: {config.stage!r}")
    if config.alarm_email is not None and not _EMAIL.match(config.alarm_email):
        raise ValueError(f"alarmEmail is not an e-mail address: {config.alarm_email!r}")
    ages = config.alarm_queue_age_seconds
    if set(ages) != set(QUEUES) or not all(60 <= age <= 14 * 24 * 3600 for age in ages.values()):
        raise ValueError(
            "alarmQueueAgeSeconds needs high, default, low and fifo, each 60 s..14 days "
            f"(the queues' retention): {ages}"
        )
    for key, value in (
        ("alarmWorkerErrorRatePercent", config.alarm_worker_error_rate_percent),
        ("alarmApi5xxRatePercent", config.alarm_api_5xx_rate_percent),
    ):
        if not 0 < value <= 100:
            raise ValueError(f"{key} must be a percentage above 0: {value}")
    if config.alarm_schedule_target_errors < 1 or config.alarm_saga_failures < 1:
        raise ValueError("alarmScheduleTargetErrors and alarmSagaFailures must be at least 1")
    # Whole minutes, no more than a day: CloudWatch's limit on periods times evaluations.
    open_seconds = config.alarm_circuit_open_seconds
    if open_seconds % 60 or not 60 <= open_seconds <= 24 * 3600:
        raise ValueError(
            f"alarmCircuitOpenSeconds must be whole minutes, 60..86400: {open_seconds}"
        )
    if open_seconds < config.circuit_cooldown_seconds:
        raise ValueError("alarmCircuitOpenSeconds must be at least circuitCooldownSeconds")
    if not (
        1 <= config.api_webhook_rate_limit <= config.api_throttle_rate_limit
        and 1 <= config.api_webhook_burst_limit <= config.api_throttle_burst_limit
    ):
        raise ValueError(
            "apiWebhookRateLimit and apiWebhookBurstLimit must be at least 1 and within the "
            "stage's apiThrottleRateLimit and apiThrottleBurstLimit"
        )
    # WAF's rate-based rules count over 5 minutes and accept 10..2,000,000,000.
    if config.waf_rate_limit and not 10 <= config.waf_rate_limit <= 2_000_000_000:
        raise ValueError(f"wafRateLimit must be 0 (off) or 10..2000000000: {config.waf_rate_limit}")
    exempt_networks(config.waf_exempt_ranges)


# Requests per 5 minutes per client IP when stage=prod and wafRateLimit is not given: 10 a
# second on average, a fifth of the webhook route's default throttle (apiWebhookRateLimit).
PROD_WAF_RATE_LIMIT = 3000
# What one WAF IP set holds (per IP version).
_IP_SET_LIMIT = 10_000


def exempt_networks(ranges: list[str]) -> dict[int, list[str]]:
    """``wafExemptRanges`` by IP version (4, 6), each range in its canonical form.

    Raises ValueError for what WAF's IP sets refuse: not a CIDR range, host bits set
    ("192.0.2.1/24"), a /0, or more than 10,000 ranges of one version.
    """
    import ipaddress

    networks: dict[int, list[str]] = {4: [], 6: []}
    for text in ranges:
        try:
            network = ipaddress.ip_network(str(text).strip(), strict=True)
        except ValueError as exc:
            raise ValueError(f"wafExemptRanges: {text!r} is not a CIDR range: {exc}") from None
        if network.prefixlen == 0:
            raise ValueError(f"wafExemptRanges: {text!r} would exempt every address")
        if str(network) not in networks[network.version]:
            networks[network.version].append(str(network))
    for version, found in networks.items():
        if len(found) > _IP_SET_LIMIT:
            raise ValueError(f"wafExemptRanges: {len(found)} IPv{version} ranges, WAF holds 10000")
    return networks


def _validate_health(config: DeploymentConfig) -> None:
    """Fail synth on a threshold that could never be met or would never fire."""
    if config.health_max_queue_depth < 0 or config.health_max_dead_letters < 0:
        raise ValueError("healthMaxQueueDepth and healthMaxDeadLetters must be 0 or more")
    if config.health_past_due_seconds < 60:
        raise ValueError("healthPastDueSeconds must be at least 60 (SQS delays are approximate)")
    # The worker's timeout is the stack's: HealthCheck checks healthStuckSeconds against it.
    if not 0 <= config.health_cache_seconds <= 60:
        raise ValueError("healthCacheSeconds must be 0..60: a monitor polls every minute")
