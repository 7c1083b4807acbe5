"""Hooks for the local cloud's end-to-end tests, loaded through ACTION_HOOK_MODULES."""

from __future__ import annotations

import hashlib
import json
import os

from functions.actions.exceptions import PermanentError, TransientError
from functions.actions.hooks import hook
from functions.hooks.webhooks import on


@hook("local_flaky", max_attempts=5, base_delay=0, max_delay=0)
def local_flaky(args, action) -> str:
    """Fails its first ``args["failures"]`` attempts, then succeeds.

    Counted by attempt, not in module state: retries may run in another environment.
    """
    if action.attempt <= int(args.get("failures", 0)):
        raise TransientError(f"call {action.attempt} fails, as asked")
    return f"succeeded on call {action.attempt}"


@hook("local_tick")
def local_tick(args, action) -> str:
    """Says what ran it, and where: the tests read it from the action's log."""
    return f"tick {args.get('n')} as {action.action_id} in process {os.getpid()}"


@on("github", "payload_check")
def payload_check(payload, action) -> str:
    """Says which payload the hook received (its digest goes into the action's log)."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"payload {hashlib.sha256(canonical.encode()).hexdigest()}"


@hook("local_fail")
def local_fail(args, action) -> str:
    """Fails for good with ``args["error"]`` (repeated ``args["repeat"]`` times): the
    console's tests show what a hook's error says, as text."""
    raise PermanentError(str(args.get("error", "failed, as asked")) * int(args.get("repeat", 1)))
