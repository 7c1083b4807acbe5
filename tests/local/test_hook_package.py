"""A team's own hook package through the local cloud: synthesized with
``-c hookPackages=examples/hook_package -c exampleHooks=false`` as ``make run`` would, its
requirements installed, its hooks in the manifest the functions read, run end to end.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra import context as cdk_context
from infra.local.cloud import LocalCloud
from tests.local.test_actions_api import _call, _wait_complete
from tests.local.test_cloud import _free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")  # no ~/.cdk.json of the machine's
    context = cdk_context.load(
        ROOT, {"hookPackages": "examples/hook_package", "exampleHooks": "false"}, home=home
    )
    lines: list[str] = []
    local = LocalCloud(
        api_port=_free_port(), aws_port=_free_port(), log=lines.append, context=context
    )
    local.start()
    local.lines = lines
    yield local
    local.stop()


def _enqueue(cloud, hook: str, args: object) -> tuple[int, dict]:
    body = json.dumps({"hook": hook, "args": args, "group": "order-7"}).encode()
    status, _, answer = _call(cloud.actions_api_url, "POST", body)
    return status, answer


def test_an_action_of_the_packages_hook_runs_with_its_own_dependency(cloud):
    status, action = _enqueue(cloud, "shop_send_receipt", {"order": "7", "cents": 123450})

    assert status == 201, action
    assert action["priority"] == "high"  # the hook's policy, from the manifest
    _wait_complete(cloud, action["action_id"])
    _, _, read = _call(f"{cloud.actions_api_url}/{action['action_id']}")
    assert "$1,234.50" in json.dumps(read)  # humanize, from the package's requirements


def test_the_example_hooks_are_off_and_the_receivers_hook_stays(cloud):
    status, answer = _enqueue(cloud, "send_email", {"to": "a@example.com"})
    kept, webhook = _enqueue(cloud, "process_webhook", {"source": "github"})

    assert status == 404, answer
    assert kept == 201, webhook
