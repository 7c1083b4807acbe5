"""``sync_external_api``: a call to a flaky dependency, behind the ``external_api`` circuit.

Set ``EXTERNAL_API_FAIL=1`` in the worker's environment (or pass ``{"fail": true}``)
to make the dependency fail, and watch the circuit open, defer work and close again.
"""

from __future__ import annotations

from typing import Any

from functions.actions.exceptions import TransientError
from functions.actions.hooks import ActionContext, hook
from functions.hooks.config import settings
from functions.observability import logger


# unique_by="group": one pending or running sync per group (actionsctl schedule --unique).
@hook(
    "sync_external_api",
    max_attempts=8,
    base_delay=5,
    max_delay=300,
    circuit="external_api",
    unique_by="group",
)
def sync_external_api(args: Any, action: ActionContext) -> None:
    failing = settings().external_api_fail
    if failing or (isinstance(args, dict) and args.get("fail")):
        raise TransientError("external API answered 503")
    logger.info("external API synced", extra={"attempt": action.attempt})
