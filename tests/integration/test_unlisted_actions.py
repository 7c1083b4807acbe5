"""Actions of a hook with ``listed_while_queued=False``: written and claimed without the
indexes' keys, listed by the write that ends their run or makes it wait. What a user
relies on: the action is found by id all along, never lost from a list once its run has
ended or waits, and every status query answers it exactly as for any other action."""

from __future__ import annotations

import boto3
import pytest

from functions.actions import (
    cancel_action,
    enqueue_async_action,
    get_scheduled_actions,
    has_scheduled_action,
    schedule_single_action,
    store,
)
from functions.actions.exceptions import PermanentError, TransientError
from functions.actions.store.record import match_key

HOOK = "test_quiet"
ARGS = {"order": 7}


class Plan:
    """A hook that raises what it is told, in turn, then returns."""

    def __init__(self, *raises: BaseException) -> None:
        self.raises = list(raises)
        self.calls = 0

    def __call__(self, args, action) -> str:
        self.calls += 1
        if self.raises:
            raise self.raises.pop(0)
        return "done"


@pytest.fixture
def quiet(register):
    def make(*raises: BaseException, **policy) -> Plan:
        plan = Plan(*raises)
        policy = {"base_delay": 0, "max_delay": 0, "max_attempts": 3, **policy}
        register(HOOK, plan, listed_while_queued=False, **policy)
        return plan

    return make


def _indexed(stack, action_id: str) -> set[str]:
    """The indexes that hold an entry for the action, read straight from DynamoDB."""
    dynamodb = boto3.client("dynamodb")
    table = stack.resources.actions_table
    action = store.get(action_id)
    assert action is not None
    keys = {
        "by_hook": ("hook", HOOK),
        "by_match": ("match_key", match_key(HOOK, ARGS, "")),
        "by_status": ("status", str(action.status)),
    }
    found = set()
    for index, (name, value) in keys.items():
        items = dynamodb.query(
            TableName=table,
            IndexName=index,
            KeyConditionExpression="#k = :v",
            ExpressionAttributeNames={"#k": name},
            ExpressionAttributeValues={":v": {"S": value}},
        )["Items"]
        if any(item["action_id"]["S"] == action_id for item in items):
            found.add(index)
    return found


def _listed(status: str) -> list[str]:
    page = get_scheduled_actions(hook=HOOK, args=ARGS, status=status, per_page=50)
    return [action.action_id for action in page.items]


def test_queued_it_is_found_by_id_but_in_no_index(stack, jobs, quiet):
    quiet()

    action_id = enqueue_async_action(HOOK, ARGS)

    action = store.get(action_id)
    assert action is not None and action.status == "pending"
    assert _indexed(stack, action_id) == set()
    assert _listed("pending") == []
    assert has_scheduled_action(HOOK, ARGS) is False


def test_its_completion_lists_it_in_every_index(stack, jobs, quiet):
    plan = quiet()
    action_id = enqueue_async_action(HOOK, ARGS)

    jobs.work()

    assert plan.calls == 1
    assert store.get(action_id).status == "complete"
    assert _indexed(stack, action_id) == {"by_hook", "by_match", "by_status"}
    assert _listed("complete") == [action_id]
    assert get_scheduled_actions(hook=HOOK, status="complete").items[0].action_id == action_id


def test_a_retry_lists_it_while_it_waits_and_it_stays_listed_to_the_end(stack, jobs, quiet):
    quiet(TransientError("busy"), base_delay=60, max_delay=60)
    action_id = enqueue_async_action(HOOK, ARGS)

    jobs.work()  # the first attempt fails; the next waits 60 s on the queue

    waiting = store.get(action_id)
    assert waiting.status == "pending" and waiting.attempts == 1
    assert _listed("pending") == [action_id]
    assert _indexed(stack, action_id) == {"by_hook", "by_match", "by_status"}


def test_the_retried_run_claims_the_listed_action_and_completes_it(stack, jobs, quiet):
    plan = quiet(TransientError("busy"))
    action_id = enqueue_async_action(HOOK, ARGS)

    jobs.work()

    assert plan.calls == 2
    assert store.get(action_id).status == "complete"
    assert _listed("complete") == [action_id]
    assert _listed("pending") == [] and _listed("in-progress") == []


def test_a_dead_letter_is_listed_as_failed_and_a_redrive_runs_it(stack, jobs, quiet):
    from functions.actions.redrive import redrive

    plan = quiet(PermanentError("no such order"))
    action_id = enqueue_async_action(HOOK, ARGS)
    jobs.work()

    assert store.get(action_id).status == "failed"
    assert _listed("failed") == [action_id]

    redrive(jobs.queue().name)
    jobs.work()

    assert plan.calls == 2
    assert store.get(action_id).status == "complete"
    assert _listed("complete") == [action_id] and _listed("failed") == []


def test_canceled_while_queued_it_is_listed_as_canceled(stack, jobs, quiet):
    plan = quiet()
    action_id = enqueue_async_action(HOOK, ARGS)

    assert cancel_action(action_id) is True
    jobs.work()

    assert plan.calls == 0
    assert store.get(action_id).status == "canceled"
    assert _listed("canceled") == [action_id]


def test_scheduled_and_unique_actions_of_the_hook_are_listed_at_once(stack, jobs, quiet):
    from datetime import UTC, datetime, timedelta

    quiet(unique_by="group")
    later = schedule_single_action(datetime.now(UTC) + timedelta(hours=1), HOOK, ARGS)
    unique = enqueue_async_action(HOOK, ARGS, group="g", unique=True)

    assert _indexed(stack, later) == {"by_hook", "by_match", "by_status"}
    assert "by_status" in _indexed(stack, unique)
    assert has_scheduled_action(HOOK, ARGS, group="g") is True


def test_an_ordered_retry_claims_the_listed_action_with_the_message_it_was_sent_in(
    stack, jobs, quiet
):
    """On the FIFO queue a retry waits in place: the message still says unlisted while
    the retry has listed the action, and the claim goes by the item."""
    plan = quiet(TransientError("busy"), ordered=True)
    action_id = enqueue_async_action(HOOK, ARGS, group="o")

    jobs.work("fifo")

    assert plan.calls == 2
    assert store.get(action_id).status == "complete"
    assert _listed("complete") == [action_id]
    assert _listed("in-progress") == []
