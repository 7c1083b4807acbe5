"""Lazily created AWS clients, one per service and process.

Modules that own a service declare their client here-through (``_sqs = lazy_client("sqs")``)
so that importing a module never needs a region or credentials, and so that tests
running each case in a fresh moto world can drop every cached client in one call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config

_FACTORIES: list[Callable[[], Any]] = []

# Standard retry mode backs off on throttling; the attempt cap keeps a webhook
# request well inside API Gateway's 29-second integration timeout.
_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


def lazy_client(service: str) -> Callable[[], Any]:
    """Return a function that creates the ``service`` client on first call, then reuses it."""

    @functools.cache
    def factory() -> Any:
        return boto3.client(service, config=_CONFIG)

    _FACTORIES.append(factory)
    return factory


def reset_clients() -> None:
    """Forget every cached client (tests: each moto world needs fresh clients)."""
    for factory in _FACTORIES:
        factory.cache_clear()  # type: ignore[attr-defined]


def each_client() -> list[Any]:
    """Every client this process uses, created if needed (tests hook botocore events on them)."""
    return [factory() for factory in _FACTORIES]
