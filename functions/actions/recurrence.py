"""What a run's outcome does to its recurring action: one that keeps failing stops.

Action Scheduler stops rescheduling a recurring action once its hook has failed five
times in a row. Here each run of a recurring action is an action of its own, retried
as the hook says; a run that ends ``failed`` (dead-lettered) counts against its
recurring action, one that completes clears the count. After the hook's
``max_failed_runs`` (5 by default; None: never) failed runs in a row, the recurring
action ends ``failed`` with the reason, its schedule is deleted, runs already on their
way are skipped, and ``RecurringActionsStopped`` counts it (an alarm watches it). To
restart one, schedule it again (docs/guides/scheduling.md).
Why: docs/decisions/0048-a-recurring-action-that-keeps-failing-stops.md
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from functions.actions import hooks, store, timers
from functions.metrics import Metric
from functions.observability import add_metric, logger


def after_run(claim: store.Claim) -> None:
    """Count the outcome of the run ``claim`` started, if it is a recurring action's.

    Best effort, after the run's outcome is recorded: failing the record here would
    only make SQS deliver a run that is over. A count lost to an outage is one run
    less towards the stop.
    """
    recurring, run = claim.recurring, claim.action
    if recurring is None or run is None:
        return
    limit = hooks.get(recurring.hook).max_failed_runs
    if limit is None:
        return
    try:
        _note_outcome(recurring, run.action_id, limit)
    except (ClientError, BotoCoreError) as exc:
        logger.warning(
            "recurring action's failed runs not counted",
            extra={"recurring_action_id": recurring.action_id, "error": type(exc).__name__},
        )


def _note_outcome(recurring: store.Action, run_id: str, limit: int) -> None:
    ended = store.get(run_id)
    if ended is None:
        return
    if ended.status is store.ActionStatus.COMPLETE:
        if recurring.failed_runs:  # as read when the run was claimed
            store.clear_failed_runs(recurring.action_id)
        return
    if ended.status is not store.ActionStatus.FAILED:
        return  # to be retried: not an outcome yet
    failed = store.note_failed_run(recurring.action_id)
    if failed is not None and failed >= limit:
        _stop(recurring, failed, ended.last_error or "")


def _stop(recurring: store.Action, failed: int, last_error: str) -> None:
    reason = f"stopped after {failed} failed runs in a row; the last: {last_error}"
    stopped = store.stop_recurring(recurring.action_id, reason)
    if stopped is None:
        return  # canceled or stopped meanwhile
    if stopped.schedule_name:
        timers.delete(stopped.schedule_name)
    logger.error(
        "recurring action stopped",
        extra={"recurring_action_id": recurring.action_id, "failed_runs": failed},
    )
    add_metric(Metric.RECURRING_ACTIONS_STOPPED, hook=recurring.hook, priority=recurring.priority)
