"""A hook module that fails to import fails only its own hooks' actions.

The stack's functions read the manifest written at synth: the webhook receiver and the
actions API validate against it and import no hook; the worker imports each module on
its own and dead-letters the actions of a module that failed with ``hook_unavailable``.
"""

from __future__ import annotations

import json
import sys
import uuid

import pytest

from functions.actions import enqueue_async_action, hooks


@pytest.fixture
def broken_package(broken_hook_module):
    broken_hook_module("test_broken_hook")


def test_a_broken_module_leaves_webhooks_accepted_and_dead_letters_its_own_actions(
    stack, jobs, broken_package
):
    body = json.dumps({"type": "ping"}).encode()
    delivery_id = f"msg_{uuid.uuid4().hex}"
    headers = stack.signed("standard", body, delivery_id)

    answer = stack.post("standard", body, headers)
    broken_id = enqueue_async_action("test_broken_hook", {"n": 1})

    assert answer.status == 202
    assert "broken_hooks" not in sys.modules  # validated against the manifest only
    jobs.work()

    assert jobs.action(answer.body["action_id"]).status == "complete"
    failed = jobs.action(broken_id)
    assert failed.status == "failed"
    [letter] = jobs.dead_letters()
    assert letter["attributes"]["reason"] == "hook_unavailable"
    assert letter["attributes"]["action_id"] == broken_id
    assert "RuntimeError: the hook package is broken" in letter["attributes"]["error"]
    # What it registered before it raised is gone with it.
    assert "test_broken_hook" not in hooks.registered_here()
    assert hooks.failed_modules() == {"broken_hooks": "RuntimeError: the hook package is broken"}


def test_the_actions_api_takes_actions_of_a_broken_module_without_importing_it(
    actions_api, broken_package
):
    answer = actions_api.request("POST", "/actions", {"hook": "test_broken_hook", "args": {}})
    unknown = actions_api.request("POST", "/actions", {"hook": "no_such_hook", "args": {}})

    assert answer.status == 201, answer.body
    assert unknown.status == 404, unknown.body
    assert "broken_hooks" not in sys.modules
