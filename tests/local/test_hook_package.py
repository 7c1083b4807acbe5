"""A team's own hook package through the local cloud: synthesized with
``-c hookPackages=examples/hook_package -c exampleHooks=false`` as ``make run`` would, its
requirements installed, its hooks in the manifest the functions read, run end to end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


def _outside(cloud, code: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` as a team's app would: a process of this checkout that names the stack
    and nothing else (no queue or table variables, no hook package on its path)."""
    keep = ("PATH", "HOME", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    env = {
        **{name: os.environ[name] for name in keep if name in os.environ},
        "AWS_DEFAULT_REGION": os.environ["AWS_DEFAULT_REGION"],
        "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
        "ACTION_SCHEDULER_STACK": cloud.stack_name,
        "PYTHONPATH": str(ROOT),
        **extra,
    }
    return subprocess.run(  # noqa: S603 - this interpreter, our own code
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_an_app_outside_the_stack_enqueues_the_packages_hook_it_cannot_import(cloud):
    ran = _outside(
        cloud,
        "from functions.actions import enqueue_async_action, hooks\n"
        "action_id = enqueue_async_action('shop_send_receipt', {'order': '8', 'cents': 995})\n"
        "import sys\n"
        "print('RESULT', action_id, hooks.get('shop_send_receipt').priority,"
        " 'shop_hooks' in sys.modules)\n",
    )

    assert ran.returncode == 0, ran.stderr
    [result] = [line for line in ran.stdout.splitlines() if line.startswith("RESULT ")]
    action_id, priority, imported = result.split()[1:]
    assert (priority, imported) == ("high", "False")  # the stack's policy, no import
    assert "$9.95" in json.dumps(_wait_complete(cloud, action_id))


def test_actionsctl_lists_the_hooks_the_stacks_worker_runs(cloud):
    ran = _outside(cloud, "from infra.cli.main import main; main(['hooks', 'list', '--json'])")

    assert ran.returncode == 0, ran.stderr
    listed = {line["hook"]: line for line in map(json.loads, ran.stdout.splitlines())}
    assert listed["shop_send_receipt"]["priority"] == "high"
    assert listed["shop_reorder_stock"]["unique_by"] == "group"
    assert "send_email" not in listed  # exampleHooks=false in this stack


def test_a_process_whose_role_may_not_call_the_api_is_told_what_to_attach(cloud):
    ran = _outside(
        cloud,
        "from functions.actions import hooks; hooks.get('shop_send_receipt')",
        AWS_SECRET_ACCESS_KEY="not-the-secret",
    )

    assert ran.returncode != 0
    assert "refused (403)" in ran.stderr
    assert "ActionsApiPolicyArn" in ran.stderr
