"""Shared fixtures. Every AWS call in the suite goes to moto; nothing reaches AWS."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests import suite_figures

os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "ActionSchedulerTest",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
    }
)
os.environ.pop("AWS_PROFILE", None)

TESTS = Path(__file__).resolve().parent

# Each suite's tests carry its name as a marker (`-m integration`), and the suites that
# build a moto stack, synthesize the CDK app or start the local cloud also carry `slow`:
# `make test-fast` runs what is left. Marked here by directory, so a test moved between
# suites changes marker with it and no test file spells one out.
SUITES = {"unit": False, "bench": False, "integration": True, "infra": True, "local": True}


def pytest_configure(config: pytest.Config) -> None:
    # TEST_FIGURES=<file>: each suite's counts and time into <file> (`make figures-tests`).
    suite_figures.register(config)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not item.path.is_relative_to(TESTS):
            continue
        suite = item.path.relative_to(TESTS).parts[0]
        if suite in SUITES:
            item.add_marker(suite)
            if SUITES[suite]:
                item.add_marker("slow")


def reset_process_state() -> None:
    """Forget what a warm Lambda process caches: clients, settings, secrets, wrappers."""
    from functions import settings
    from functions.api import idempotency
    from functions.clients import reset_clients
    from functions.webhooks import receiver, secrets

    reset_clients()
    settings.reset()
    secrets.reset_cache()
    receiver.reset()
    idempotency.reset()


def record_aws_calls() -> list[tuple[str, str]]:
    """Every AWS operation our clients make from now on, in order, as (service, operation).

    Counted from botocore's ``before-send`` event, after retries are decided: exact, not
    timed, and the same count a bill is made of.
    """
    from functions.clients import each_client

    made: list[tuple[str, str]] = []

    def record(event_name: str, **_: object) -> None:
        _, service, operation = event_name.split(".")[:3]
        made.append((service, operation))

    for client in each_client():
        client.meta.events.register("before-send.*", record)
    return made


@pytest.fixture
def aws():
    """A fresh, empty moto account for one test."""
    from moto import mock_aws

    with mock_aws():
        reset_process_state()
        yield
    reset_process_state()


def _synthesize(tmp_path_factory, context: dict | None = None) -> tuple[dict, Path]:
    from infra.app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(outdir=str(outdir), context=context)
    app.synth()
    path = outdir / f"{stack.stack_name}.template.json"
    return json.loads(path.read_text()), path


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> tuple[dict, Path]:
    """The stack's template, synthesized once per session (cdk-nag runs during synth)."""
    return _synthesize(tmp_path_factory)


@pytest.fixture(scope="session")
def http_synthesized(tmp_path_factory) -> tuple[dict, Path]:
    """The stack's template with ``apiFlavour=http`` (an HTTP API), synthesized once per
    session as the CLI would pass it (``-c apiFlavour=http``)."""
    return _synthesize(tmp_path_factory, {"apiFlavour": "http"})
