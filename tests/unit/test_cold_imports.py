"""A handler imports what its requests need.

Each handler is imported in a fresh interpreter (a cold start's), and the test asserts
on ``sys.modules``: never on a time.
Why: docs/decisions/0070-handlers-import-what-a-request-needs.md
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps({"modules": sorted(sys.modules)}))
"""

# Modules only some requests use: scheduling (cron, time zones, EventBridge Scheduler),
# queries, the saga tasks and the hook packages (an enqueuer never imports a hook).
# No function's hot path loads pydantic: its import was a third of a cold start above
# the floor (docs/decisions/0073-the-functions-hot-path-is-pydantic-free.md).
NO_PYDANTIC = ("pydantic", "pydantic_core")
NOT_FOR_A_WEBHOOK = (
    *NO_PYDANTIC,
    # The handler routes its one route itself: Powertools' event handler package (every
    # resolver, every event class) is the OpenAPI document's (webhook_openapi.py).
    "aws_lambda_powertools.event_handler",
    "aws_lambda_powertools.utilities.data_classes",
    "functions.handlers.webhook_openapi",
    "cronsim",
    "functions.actions.cron",
    "functions.actions.timers",
    "functions.actions.queries",
    "functions.actions.worker",
    # Index reads: only a unique action's enqueue may need one (record 0075).
    "functions.actions.store.reads",
    "functions.hooks",
    "functions.sagas",
)
# A recurring action's next run needs cron; the worker imports it on the first one.
NOT_FOR_A_WORKER = (
    *NO_PYDANTIC,
    # Powertools' batch package imports every event source's data classes (batch.py).
    "aws_lambda_powertools.utilities.batch",
    "aws_lambda_powertools.utilities.data_classes",
    "cronsim",
    "functions.actions.cron",
    "functions.actions.api",
    "functions.actions.store.reads",
)
NOT_FOR_A_HEALTH_CHECK = (
    *NO_PYDANTIC,
    "cronsim",
    "functions.actions.cron",
    "functions.actions.api",
    "functions.hooks",
    "functions.sagas",
    "functions.webhooks",
)
NOT_FOR_A_SAGA_TASK = (
    *NO_PYDANTIC,
    "cronsim",
    "functions.actions.api",
    "functions.actions.envelope",
    "functions.hooks",
    "functions.webhooks",
)
# The message contract is the standard library's: every function that reads or writes
# an envelope or a payload reference pays nothing more for it.
# Why: docs/decisions/0073-the-functions-hot-path-is-pydantic-free.md
NOT_FOR_THE_MESSAGE_CONTRACT = NO_PYDANTIC


# What Lambda sets for a function with active tracing: the X-Ray SDK is imported and
# botocore patched, as in a deployed cold start.
ON_LAMBDA = {
    "LAMBDA_TASK_ROOT": str(ROOT),
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
    "AWS_LAMBDA_FUNCTION_NAME": "cold",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
}
# None of these functions is async: asyncio (imported by wrapt 2, which the X-Ray SDK
# depends on) was about 10 ms of each traced cold start. Record 0075.
NOT_FOR_ANY_TRACED_FUNCTION = ("asyncio",)


def imported(module: str, environ: dict[str, str] | None = None) -> dict[str, list[str]]:
    return _fresh(PROGRAM, module, environ=environ)


def _fresh(program: str, *args: str, environ: dict[str, str] | None = None) -> Any:
    """What ``program`` prints as JSON, run in a fresh interpreter (a cold start's)."""
    ran = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", program, *args],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "AWS_DEFAULT_REGION": "us-east-1",
            **(environ or {}),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    return json.loads(ran.stdout)


@pytest.mark.parametrize(
    ("module", "not_needed"),
    [
        ("functions.handlers.webhook", NOT_FOR_A_WEBHOOK),
        ("functions.handlers.worker", NOT_FOR_A_WORKER),
        ("functions.handlers.health", NOT_FOR_A_HEALTH_CHECK),
        ("functions.handlers.saga", NOT_FOR_A_SAGA_TASK),
        ("functions.actions.envelope", NOT_FOR_THE_MESSAGE_CONTRACT),
        ("functions.payloads.ref", NOT_FOR_THE_MESSAGE_CONTRACT),
    ],
)
def test_a_handler_imports_only_what_its_requests_need(module: str, not_needed: tuple) -> None:
    assert _unwanted(imported(module), not_needed) == []


@pytest.mark.parametrize(
    "module",
    [
        "functions.handlers.webhook",
        "functions.handlers.worker",
        "functions.handlers.health",
        "functions.handlers.saga",
    ],
)
def test_a_traced_handler_does_not_load_asyncio(module: str) -> None:
    found = imported(module, ON_LAMBDA)

    assert "aws_xray_sdk.core" in found["modules"]  # traced, as deployed
    assert _unwanted(found, NOT_FOR_ANY_TRACED_FUNCTION) == []


def _unwanted(found: dict[str, list[str]], not_needed: tuple) -> list[str]:
    return [
        name
        for name in found["modules"]
        for unwanted in not_needed
        if name == unwanted or name.startswith(f"{unwanted}.")
    ]


def test_the_store_loads_its_reads_on_first_use_and_names_them_all() -> None:
    program = """
import json, sys
import functions.actions.store as store
before = "functions.actions.store.reads" in sys.modules
resolved = {name: getattr(store, name) is not None for name in store.__all__}
from functions.actions.store import reads
print(json.dumps({
    "before": before,
    "after": "functions.actions.store.reads" in sys.modules,
    "resolved": all(resolved.values()),
    "same_any": store.ANY is reads.ANY,
    "listed": sorted(set(store.__all__) - set(dir(store))),
}))
"""
    found = _fresh(program)

    assert found == {
        "before": False,
        "after": True,
        "resolved": True,
        "same_any": True,
        "listed": [],
    }
