"""Lazily created AWS clients, one per service and process, shared by the modules that use it.

A module that owns a service declares its client (``_sqs = lazy_client("sqs")``);
importing a module never needs a region or credentials, and ``reset_clients()`` drops every
cached client (a fresh moto world per test).
Why: docs/decisions/0013-pay-at-cold-start-only-for-what-is-used.md
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config

if TYPE_CHECKING:  # the boto3-stubs packages: a dev dependency, never in the Lambda asset
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

_SERVICES: set[str] = set()

# Standard retry mode backs off on throttling; the attempt cap keeps a webhook
# request well inside API Gateway's 29-second integration timeout.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


# boto3-stubs types ``boto3.client`` per service name literal; this cache is keyed by
# any name, and ``lazy_client``'s overloads below give each caller its typed client.
_make_client: Callable[..., Any] = boto3.client


@functools.cache
def _client(service: str) -> Any:
    return _make_client(service, config=_CONFIG)


@overload
def lazy_client(service: Literal["cloudformation"]) -> Callable[[], CloudFormationClient]: ...
@overload
def lazy_client(service: Literal["cloudwatch"]) -> Callable[[], CloudWatchClient]: ...
@overload
def lazy_client(service: Literal["dynamodb"]) -> Callable[[], DynamoDBClient]: ...
@overload
def lazy_client(service: Literal["s3"]) -> Callable[[], S3Client]: ...
@overload
def lazy_client(service: Literal["scheduler"]) -> Callable[[], EventBridgeSchedulerClient]: ...
@overload
def lazy_client(service: Literal["secretsmanager"]) -> Callable[[], SecretsManagerClient]: ...
@overload
def lazy_client(service: Literal["sqs"]) -> Callable[[], SQSClient]: ...
@overload
def lazy_client(service: Literal["stepfunctions"]) -> Callable[[], SFNClient]: ...
def lazy_client(service: str) -> Callable[[], Any]:
    """Return a function that gives the process's ``service`` client, made on first call."""
    _SERVICES.add(service)
    return functools.partial(_client, service)


def reset_clients() -> None:
    """Forget every cached client (tests: each moto world needs fresh clients)."""
    _client.cache_clear()


def each_client() -> list[Any]:
    """Every client this process uses, once each, created if needed (tests hook their events)."""
    return [_client(service) for service in sorted(_SERVICES)]
