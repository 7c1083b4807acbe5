"""``start_order_saga``: a webhook or a schedule starts order fulfilment as a saga.

The action waits for the saga: it stays in progress until the execution ends, then
completes or fails with it (``AwaitSaga``). A repeated start finds the execution already
there; its outcome goes to the action that started it, so the repeat completes at once.
"""

from __future__ import annotations

from typing import Any

from functions.actions.exceptions import PermanentError
from functions.actions.hooks import ActionContext, AwaitSaga, hook
from functions.hooks.config import settings
from functions.observability import logger
from functions.sagas import claim, executions, order, tasks


@hook("start_order_saga", max_attempts=5, base_delay=5, max_delay=300)
def start_order_saga(args: Any, action: ActionContext) -> str | AwaitSaga:
    if not isinstance(args, dict) or not args.get("order_id"):
        raise PermanentError("start_order_saga needs args {'order_id': ..., 'amount': ...}")
    name = executions.execution_name("order", str(args["order_id"]))
    # The origin lets every task's log lines carry this action's correlation id, and
    # the saga's outcome find this action.
    # --8<-- [start:await]
    saga_input = {**args, **tasks.origin_input(action.action_id, action.correlation_id)}
    # A large order travels by claim check: Step Functions takes at most 256 KB.
    saga_input = claim.check_in(saga_input, name)
    arn, started = executions.start(settings().saga_arn(), name, {"input": saga_input})
    # --8<-- [end:await]
    logger.info("order saga", extra={"execution_arn": arn, "started": started})
    if not started:
        return f"saga already started: {arn}"
    # --8<-- [start:await]
    return AwaitSaga(arn, order.WAIT_SECONDS, f"saga started: {arn}")
    # --8<-- [end:await]
