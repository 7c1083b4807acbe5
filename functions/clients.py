"""Lazily created AWS clients, one per service and process, shared by the modules that use it.

A module that owns a service declares its client (``_sqs = lazy_client("sqs")``);
importing a module never needs a region or credentials, and ``reset_clients()`` drops every
cached client (a fresh moto world per test).
Why: docs/decisions/0013-pay-at-cold-start-only-for-what-is-used.md
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

_SERVICES: set[str] = set()

# Standard retry mode backs off on throttling; the attempt cap keeps a webhook
# request well inside API Gateway's 29-second integration timeout.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@functools.cache
def _client(service: str) -> Any:
    return boto3.client(service, config=_CONFIG)


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
