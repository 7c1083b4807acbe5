"""The docs' Python examples that call AWS, run as the pages show them, on moto."""

from __future__ import annotations

import json

import pytest

from functions.actions import hooks
from tests.docs_site import load_example


@pytest.fixture
def billing():
    module = load_example("guides/hooks/billing.py")
    yield module
    hooks.unregister("charge_subscription")


def test_writing_hooks_enqueue_with_every_option(stack, jobs, billing) -> None:
    example = load_example("guides/hooks/enqueue_options.py")

    first, duplicate_of = example.enqueue_twice()

    assert duplicate_of == first  # unique=True refused the second, naming the first
    assert "no_such_hook" in example.enqueue_an_unknown_hook()
    action = jobs.action(first)
    assert (action.hook, action.group, action.args) == (
        "charge_subscription",
        "billing",
        {"customer": "cus_42"},
    )
    jobs.work("high")  # the hook's own priority
    assert jobs.action(first).status == "complete"


def test_the_scheduling_tour(stack, jobs) -> None:
    example = load_example("guides/scheduling/tour.py")

    seen = example.tour()

    assert seen["has"] is True
    assert seen["next"] == seen["later"].replace(microsecond=seen["next"].microsecond)
    assert seen["recurring"] is False  # unscheduled
    assert seen["page"].items is not None


def test_a_github_issues_delivery_reaches_its_on_handler(stack, jobs) -> None:
    from functions.hooks import webhooks

    load_example("guides/webhooks/github_issues.py")
    try:
        body = json.dumps({"action": "opened", "issue": {"number": 42}}).encode()
        headers = stack.signed("github", body, "issue-42", event_type="issues")
        accepted = stack.post("github", body, headers)
        assert accepted.status == 202

        jobs.work()

        action = jobs.action(accepted.body["action_id"])
        assert action.status == "complete"
        assert any("'issue': 42" in entry.message for entry in action.log)  # its result
    finally:
        webhooks._HANDLERS.pop(("github", "issues"), None)


def test_an_unrecorded_action_runs_and_leaves_no_item(stack, jobs) -> None:
    example = load_example("guides/hooks/unrecorded.py")

    action_id = example.enqueue_a_sync()

    assert jobs.action(action_id) is None  # never written
    jobs.work()
    assert jobs.depth() == 0
    assert jobs.dead_letters() == []
    assert jobs.action(action_id) is None
